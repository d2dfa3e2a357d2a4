package dev.ember.engine.core;

import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.StagePlan;

/** Which input a task of a stage reads, for the runners that fetch it. */
public final class StageInputs {

    /** The segment a partition of a stage reads, and the partition's index within it. */
    public record Located(InputSegment segment, int local) {
    }

    private StageInputs() {
    }

    /** For a stage that is not aligned: a stage's partitions are its segments laid end to end. */
    public static Located locate(StagePlan stage, int partition) {
        int offset = 0;
        for (InputSegment segment : stage.input()) {
            if (partition < offset + segment.count()) {
                return new Located(segment, partition - offset);
            }
            offset += segment.count();
        }
        throw new IllegalStateException("partition " + partition + " is outside stage " + stage.id());
    }

    /** The codec of one input segment's frames: file segments carry their own; every other input is the stage's. */
    public static String codecOf(SchedulerSession session, StagePlan stage, InputSegment segment) {
        return segment.kind() == InputSegment.Kind.FILES ? session.fileInput(segment.id()).codec : stage.inputCodec();
    }

    /** The codec of a task's (first) input. */
    public static String inputCodecOf(SchedulerSession session, StagePlan stage, int partition) {
        return codecOf(session, stage, stage.aligned() ? stage.input().get(0) : locate(stage, partition).segment());
    }
}
