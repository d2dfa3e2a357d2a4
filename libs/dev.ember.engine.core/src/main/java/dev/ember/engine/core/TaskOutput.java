package dev.ember.engine.core;

import java.nio.file.Path;
import java.util.List;

/**
 * What a successful task attempt produced.
 *
 * @param results            the frames of a result stage's task, else null
 * @param stored             its share of a shuffle or cache, else null
 * @param accumulatorUpdates one frame of accumulator updates, or null if it made none
 * @param file               the attempt's file of a stage that writes files, else null
 */
public record TaskOutput(List<byte[]> results, StoredOutput stored, byte[] accumulatorUpdates, Path file) {
}
