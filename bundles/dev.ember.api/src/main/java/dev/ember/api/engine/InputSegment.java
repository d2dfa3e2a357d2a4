package dev.ember.api.engine;


/**
 * A run of a stage's partitions that read from one source. A stage's partitions are its segments laid end to end:
 * partition {@code p} reads partition {@code p - offset} of the segment it falls in (a union of RDDs is several
 * segments).
 *
 * @param kind  the kind of source
 * @param id    the dataset, shuffle, cached RDD or file input id; -1 for {@link Kind#EMPTY}
 * @param count how many partitions this segment contributes
 */
public record InputSegment(Kind kind, int id, int count) {

    public enum Kind {
        /** No records: each partition's function generates its own (as {@code range} does). */
        EMPTY,
        /** Frames the driver stored with {@link EngineSession#storeDataset}. */
        DATASET,
        /** The reduce partitions of a shuffle written by an earlier stage. */
        SHUFFLE,
        /** The partitions of a cached RDD, written by an earlier stage. */
        CACHE,
        /** The splits of files opened with {@link EngineSession#openFiles}, read by the JVM through their codec. */
        FILES
    }

    public InputSegment {
        if (count < 0) {
            throw new IllegalArgumentException("a segment's partition count must not be negative, got " + count);
        }
    }

    public static InputSegment empty(int count) {
        return new InputSegment(Kind.EMPTY, -1, count);
    }

    public static InputSegment dataset(int datasetId, int count) {
        return new InputSegment(Kind.DATASET, datasetId, count);
    }

    public static InputSegment shuffle(int shuffleId, int count) {
        return new InputSegment(Kind.SHUFFLE, shuffleId, count);
    }

    public static InputSegment files(int fileInputId, int count) {
        return new InputSegment(Kind.FILES, fileInputId, count);
    }

    public static InputSegment cache(int rddId, int count) {
        return new InputSegment(Kind.CACHE, rddId, count);
    }
}
