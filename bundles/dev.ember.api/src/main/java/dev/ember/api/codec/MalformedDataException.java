package dev.ember.api.codec;

import java.io.IOException;

/**
 * Data that is not valid for its codec: invalid UTF-8, a malformed JSON line, a truncated frame. The message names
 * the file and position (byte offset or line number) and, where it helps, the offending text. Retrying cannot fix
 * it, so a job that meets it fails at once.
 */
public class MalformedDataException extends IOException {

    private static final long serialVersionUID = 1L;

    public MalformedDataException(String message) {
        super(message);
    }

    public MalformedDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
