package dev.ember.api.engine;

import dev.ember.api.frames.Frames;
import java.util.List;
import java.util.Objects;

/**
 * One stage: a pickled Python function applied to each partition of its input.
 *
 * @param id          unique within the plan
 * @param commandId   identifies {@code command}, so a worker that has it already is not sent it again
 * @param command     the pickled function, opaque to the JVM
 * @param input       the segments the stage's partitions read, in partition order
 * @param output      where the stage's output goes
 * @param broadcasts  ids of the broadcast variables the command uses; workers get each value once
 * @param inputCodec  the codec name of the input frames (for example {@code pickle})
 * @param outputCodec the codec name of the output frames
 * @param barrier     whether it is a barrier stage ({@code rdd.barrier()}): all its tasks start together, can wait
 *                    for each other, and a failure of one retries them all
 * @param aligned     whether the input segments are aligned rather than laid end to end: all have the same count,
 *                    and partition {@code p} reads partition {@code p} of each segment in turn, the parts separated
 *                    by {@link Frames#NEXT_INPUT} (a union of RDDs that share a partitioner)
 */
public record StagePlan(int id, String commandId, byte[] command, List<InputSegment> input, StageOutput output,
        List<Integer> broadcasts, String inputCodec, String outputCodec, boolean barrier, boolean aligned) {

    /** A stage that is neither a barrier stage nor aligned. */
    public StagePlan(int id, String commandId, byte[] command, List<InputSegment> input, StageOutput output,
            List<Integer> broadcasts, String inputCodec, String outputCodec) {
        this(id, commandId, command, input, output, broadcasts, inputCodec, outputCodec, false, false);
    }

    public StagePlan {
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(command, "command");
        input = List.copyOf(Objects.requireNonNull(input, "input"));
        Objects.requireNonNull(output, "output");
        broadcasts = List.copyOf(Objects.requireNonNull(broadcasts, "broadcasts"));
        Objects.requireNonNull(inputCodec, "inputCodec");
        Objects.requireNonNull(outputCodec, "outputCodec");
        if (aligned && !sameCounts(input)) {
            throw new IllegalArgumentException("an aligned stage needs input segments of one partition count, got "
                    + input);
        }
    }

    private static boolean sameCounts(List<InputSegment> segments) {
        return !segments.isEmpty() && segments.stream().allMatch(segment -> segment.count() == segments.get(0).count());
    }

    /** How many tasks the stage has: the partitions of all its input segments (of each, when aligned). */
    public int numPartitions() {
        if (aligned) {
            return input.get(0).count();
        }
        int total = 0;
        for (InputSegment segment : input) {
            total += segment.count();
        }
        return total;
    }
}
