package dev.ember.codec.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class PickleCodecTest {

    private final PickleCodec codec = new PickleCodec();

    @Test
    void randomBatchesRoundTrip() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            List<Object> records = new ArrayList<>();
            int size = random.nextInt(50);
            for (int i = 0; i < size; i++) {
                switch (random.nextInt(4)) {
                    case 0 -> records.add(random.nextInt());
                    case 1 -> records.add(random.nextDouble());
                    case 2 -> records.add(randomString(random));
                    default -> records.add(List.of(random.nextInt(1000), randomString(random)));
                }
            }
            assertEquals(records, codec.decode(codec.encode(records)), "round " + round);
        }
    }

    @Test
    void emptyBatchRoundTrips() {
        assertEquals(List.of(), codec.decode(codec.encode(List.of())));
    }

    @Test
    void nameIsPickle() {
        assertEquals("pickle", codec.name());
    }

    private static String randomString(Random random) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(20);
        for (int i = 0; i < length; i++) {
            // Mix ASCII, accented letters and characters outside the BMP.
            text.appendCodePoint(switch (random.nextInt(3)) {
                case 0 -> 'a' + random.nextInt(26);
                case 1 -> 0xC0 + random.nextInt(64);
                default -> 0x1F600 + random.nextInt(50);
            });
        }
        return text.toString();
    }
}
