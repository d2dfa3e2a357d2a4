package dev.ember.api;

/**
 * Where a stage reads from.
 *
 * @param kind      the kind of source
 * @param datasetId for {@link Kind#DATASET}, the id from {@link EngineSession#storeDataset}; otherwise -1
 */
public record StageInput(Kind kind, int datasetId) {

    public enum Kind {
        /** No records: each partition's function generates its own (as {@code range} does). */
        EMPTY,
        /** Frames the driver stored in the session. */
        DATASET
    }

    public static StageInput empty() {
        return new StageInput(Kind.EMPTY, -1);
    }

    public static StageInput dataset(int datasetId) {
        return new StageInput(Kind.DATASET, datasetId);
    }
}
