package dev.ember.codec.lines;

import dev.ember.api.codec.MalformedDataException;

/** A per-line test a line-based codec applies on top of UTF-8 (for example: is this line one JSON document?). */
@FunctionalInterface
public interface LineCheck {

    /** What to do with a valid line. */
    enum Verdict {
        KEEP,
        /** Leave the line out without counting it as malformed (a blank line in JSON lines). */
        DROP
    }

    /**
     * @param text the line without its terminator, valid UTF-8
     * @throws MalformedDataException with a message saying what is wrong; the reader adds the file and line
     */
    Verdict check(String text) throws MalformedDataException;
}
