package dev.ember.engine.core;

import java.io.IOException;

import dev.ember.api.engine.JobFailedException;

/**
 * A task could not read its input file or write its output file. Not the worker's fault and not cured by a retry
 * (malformed data, a missing file, a full disk), so the job fails at once with this message.
 */
public final class FileFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public final JobFailedException.Kind kind;

    public FileFailure(JobFailedException.Kind kind, String message, IOException cause) {
        super(message, cause);
        this.kind = kind;
    }

    static FileFailure reading(String file, IOException cause) {
        return new FileFailure(JobFailedException.Kind.INPUT, cause instanceof dev.ember.api.codec.MalformedDataException
                ? cause.getMessage() : "could not read " + file + ": " + describe(cause), cause);
    }

    public static FileFailure writing(String file, IOException cause) {
        return new FileFailure(JobFailedException.Kind.SETUP, "could not write " + file + ": " + describe(cause)
                + " (check free space and permissions of the output directory)", cause);
    }

    static FileFailure spilling(String directory, IOException cause) {
        return new FileFailure(JobFailedException.Kind.SETUP, "could not spill shuffle data to " + directory + ": "
                + describe(cause) + " (free disk space there, or set spillDirectory in conf/dev.ember.engine.cfg, or "
                + "raise shuffleMemoryMB there)", cause);
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        String type = e.getClass().getSimpleName();
        return message == null ? type : type + ": " + message;
    }
}
