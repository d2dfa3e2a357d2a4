package dev.ember.codec.lines;

/** UTF-8 validation as strict as Python's decoder: no overlong forms, no surrogates, nothing above U+10FFFF. */
public final class Utf8 {

    private Utf8() {
    }

    /** The index (relative to {@code offset}) where the first invalid sequence starts, or -1 if all is valid. */
    public static int firstInvalid(byte[] bytes, int offset, int length) {
        int end = offset + length;
        int i = offset;
        while (i < end) {
            int lead = bytes[i] & 0xff;
            if (lead < 0x80) {
                i++;
                continue;
            }
            int continuation;
            int secondLow = 0x80;
            int secondHigh = 0xbf;
            if (lead >= 0xc2 && lead <= 0xdf) {
                continuation = 1;
            } else if (lead >= 0xe0 && lead <= 0xef) {
                continuation = 2;
                if (lead == 0xe0) {
                    secondLow = 0xa0; // shorter forms are overlong
                } else if (lead == 0xed) {
                    secondHigh = 0x9f; // U+D800..U+DFFF are surrogates
                }
            } else if (lead >= 0xf0 && lead <= 0xf4) {
                continuation = 3;
                if (lead == 0xf0) {
                    secondLow = 0x90;
                } else if (lead == 0xf4) {
                    secondHigh = 0x8f; // above U+10FFFF
                }
            } else {
                return i - offset;
            }
            if (i + continuation >= end) {
                return i - offset; // the sequence is cut off
            }
            int second = bytes[i + 1] & 0xff;
            if (second < secondLow || second > secondHigh) {
                return i - offset;
            }
            for (int k = 2; k <= continuation; k++) {
                int next = bytes[i + k] & 0xff;
                if (next < 0x80 || next > 0xbf) {
                    return i - offset;
                }
            }
            i += continuation + 1;
        }
        return -1;
    }
}
