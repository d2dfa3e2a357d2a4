package dev.ember.api.engine;

import java.util.List;
import java.util.Objects;

/**
 * What one action asks the engine to do: stages in dependency order, the last being the result stage, and which
 * partitions of the result stage to compute. Earlier stages write shuffles or cached partitions that later stages
 * read; the engine skips a stage whose output is already complete.
 *
 * @param stages     the stages; a stage's input may only refer to stages before it
 * @param partitions the result stage's partitions to compute, in the order results are returned
 * @param jobGroup   an optional group name for cancellation, or {@code null}
 * @param callSite   where the driver's program asked for the job, as Spark shows it ({@code collect at
 *                   wordcount.py:12}), for logs and listings; or {@code null}
 */
public record JobPlan(List<StagePlan> stages, int[] partitions, String jobGroup, String callSite) {

    /** A plan without a call site. */
    public JobPlan(List<StagePlan> stages, int[] partitions, String jobGroup) {
        this(stages, partitions, jobGroup, null);
    }

    public JobPlan {
        stages = List.copyOf(Objects.requireNonNull(stages, "stages"));
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a plan needs at least one stage");
        }
        partitions = Objects.requireNonNull(partitions, "partitions").clone();
        if (!isFinal(stages.get(stages.size() - 1).output().kind())) {
            throw new IllegalArgumentException("the last stage of a plan must return results or write files");
        }
        for (StagePlan stage : stages.subList(0, stages.size() - 1)) {
            if (isFinal(stage.output().kind())) {
                throw new IllegalArgumentException("only the last stage may return results or write files (stage "
                        + stage.id() + ")");
            }
        }
        int count = stages.get(stages.size() - 1).numPartitions();
        for (int p : partitions) {
            if (p < 0 || p >= count) {
                throw new IllegalArgumentException("partition " + p + " is outside the result stage's 0.." + (count - 1));
            }
        }
    }

    private static boolean isFinal(StageOutput.Kind kind) {
        return kind == StageOutput.Kind.RESULT || kind == StageOutput.Kind.FILES;
    }

    public StagePlan resultStage() {
        return stages.get(stages.size() - 1);
    }

    @Override
    public int[] partitions() {
        return partitions.clone();
    }
}
