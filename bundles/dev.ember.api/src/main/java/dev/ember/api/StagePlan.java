package dev.ember.api;

import java.util.Objects;

/**
 * One stage: a pickled Python function applied to each partition of its input.
 *
 * @param id            unique within the plan
 * @param numPartitions how many tasks the stage has
 * @param commandId     identifies {@code command}, so a worker that has it already is not sent it again
 * @param command       the pickled function, opaque to the JVM
 * @param input         where the stage's records come from
 * @param inputCodec    the codec name of the input frames (for example {@code pickle})
 * @param outputCodec   the codec name of the output frames
 */
public record StagePlan(int id, int numPartitions, String commandId, byte[] command, StageInput input,
        String inputCodec, String outputCodec) {

    public StagePlan {
        if (numPartitions < 0) {
            throw new IllegalArgumentException("numPartitions must not be negative, got " + numPartitions);
        }
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(inputCodec, "inputCodec");
        Objects.requireNonNull(outputCodec, "outputCodec");
    }
}
