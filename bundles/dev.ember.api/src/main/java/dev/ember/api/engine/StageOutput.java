package dev.ember.api.engine;


/**
 * What a stage's tasks produce.
 *
 * @param kind        where the output goes
 * @param id          the shuffle id, cached RDD id or file output id; -1 for {@link Kind#RESULT}
 * @param numReducers for {@link Kind#SHUFFLE}, how many reduce partitions the workers bucket records into
 */
public record StageOutput(Kind kind, int id, int numReducers) {

    public enum Kind {
        /** Frames returned to the driver: only the last stage of a plan. */
        RESULT,
        /**
         * Frames each tagged with a reduce partition, kept by the engine (spilling to disk past its memory budget)
         * for stages that read the shuffle. Output of an earlier job is reused, not recomputed.
         */
        SHUFFLE,
        /** Frames kept per partition in the engine's memory until the driver unpersists the RDD. */
        CACHE,
        /**
         * Frames written through the stage's output codec to one file per partition of an output created with
         * {@link EngineSession#createOutput}: only the last stage of a plan. The files appear, with a
         * {@code _SUCCESS} marker, only when every task has succeeded.
         */
        FILES
    }

    public static StageOutput result() {
        return new StageOutput(Kind.RESULT, -1, 0);
    }

    public static StageOutput shuffle(int shuffleId, int numReducers) {
        if (numReducers < 0) {
            throw new IllegalArgumentException("a shuffle's reduce partitions must not be negative, got " + numReducers);
        }
        return new StageOutput(Kind.SHUFFLE, shuffleId, numReducers);
    }

    public static StageOutput files(int outputId) {
        return new StageOutput(Kind.FILES, outputId, 0);
    }

    public static StageOutput cache(int rddId) {
        return new StageOutput(Kind.CACHE, rddId, 0);
    }
}
