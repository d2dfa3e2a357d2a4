package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The barrier coordinator over real loopback sockets, as a worker's BarrierTaskContext talks to it. */
class BarrierCoordinatorTest {

    private final BarrierCoordinator coordinator;
    private final ExecutorService tasks = Executors.newCachedThreadPool();

    BarrierCoordinatorTest() throws IOException {
        coordinator = new BarrierCoordinator();
    }

    @AfterEach
    void stop() {
        tasks.shutdownNow();
        coordinator.close();
    }

    /** One call, answered with the round's messages, or with "error: ..." */
    private List<String> call(String secret, String token, int partition, int round, int kind, String message)
            throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), coordinator.port())) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            writeField(out, secret);
            writeField(out, token);
            out.writeInt(partition);
            out.writeInt(round);
            out.writeInt(kind);
            writeField(out, message);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int status = in.readInt();
            List<String> reply = new ArrayList<>();
            if (status != 0) {
                reply.add("error: " + readField(in));
                return reply;
            }
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                reply.add(readField(in));
            }
            return reply;
        }
    }

    private static void writeField(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readField(DataInputStream in) throws IOException {
        return new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
    }

    @Test
    void allGatherAnswersEveryTaskOnlyWhenAllHaveCalledInPartitionOrder() throws Exception {
        BarrierCoordinator.Group group = coordinator.open(new int[] {4, 7, 9});
        Future<List<String>> late = null;
        List<Future<List<String>>> early = new ArrayList<>();
        for (int partition : new int[] {9, 4}) {
            early.add(tasks.submit(() -> call(coordinator.secret(), group.token, partition, 1,
                    BarrierCoordinator.ALL_GATHER, "from " + partition)));
        }
        Thread.sleep(300);
        for (Future<List<String>> waiting : early) {
            assertFalse(waiting.isDone(), "answered before every task had called");
        }
        late = tasks.submit(() -> call(coordinator.secret(), group.token, 7, 1, BarrierCoordinator.ALL_GATHER,
                "from 7"));
        List<String> expected = List.of("from 4", "from 7", "from 9");
        assertEquals(expected, late.get(10, TimeUnit.SECONDS));
        for (Future<List<String>> waiting : early) {
            assertEquals(expected, waiting.get(10, TimeUnit.SECONDS));
        }
        // The next round is a round of its own.
        List<Future<List<String>>> second = new ArrayList<>();
        for (int partition : new int[] {4, 7, 9}) {
            second.add(tasks.submit(() -> call(coordinator.secret(), group.token, partition, 2,
                    BarrierCoordinator.BARRIER, "")));
        }
        for (Future<List<String>> answer : second) {
            assertEquals(List.of("", "", ""), answer.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void abortingAnAttemptReleasesItsWaitingCallsWithAnErrorAndRefusesLaterOnes() throws Exception {
        BarrierCoordinator.Group group = coordinator.open(new int[] {0, 1});
        Future<List<String>> waiting = tasks.submit(() -> call(coordinator.secret(), group.token, 0, 1,
                BarrierCoordinator.BARRIER, ""));
        Thread.sleep(200);
        group.abort("partition 1 failed");
        List<String> answer = waiting.get(10, TimeUnit.SECONDS);
        assertEquals(1, answer.size());
        assertTrue(answer.get(0).startsWith("error: ") && answer.get(0).contains("partition 1 failed"), answer.get(0));
        List<String> later = call(coordinator.secret(), group.token, 1, 1, BarrierCoordinator.BARRIER, "");
        assertTrue(later.get(0).startsWith("error: "), later.get(0));
    }

    @Test
    void mixingBarrierAndAllGatherInOneRoundFailsTheRound() throws Exception {
        BarrierCoordinator.Group group = coordinator.open(new int[] {0, 1});
        Future<List<String>> first = tasks.submit(() -> call(coordinator.secret(), group.token, 0, 1,
                BarrierCoordinator.BARRIER, ""));
        Thread.sleep(200);
        List<String> second = call(coordinator.secret(), group.token, 1, 1, BarrierCoordinator.ALL_GATHER, "x");
        assertTrue(second.get(0).contains("same calls in the same order"), second.get(0));
        assertTrue(first.get(10, TimeUnit.SECONDS).get(0).startsWith("error: "));
    }

    @Test
    void aWrongSecretOrAnOversizedFieldIsCutOffWithoutAnAnswer() throws Exception {
        BarrierCoordinator.Group group = coordinator.open(new int[] {0});
        assertClosedWithoutAnswer(() -> call("not-the-secret", group.token, 0, 1, BarrierCoordinator.BARRIER, ""));
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), coordinator.port())) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(Integer.MAX_VALUE); // a "secret" of 2 GiB: refused before anything is allocated
            out.flush();
            assertEquals(-1, socket.getInputStream().read());
        }
        // The attempt itself is unharmed.
        assertEquals(List.of("ok"), call(coordinator.secret(), group.token, 0, 1, BarrierCoordinator.ALL_GATHER,
                "ok"));
    }

    private interface Call {
        List<String> run() throws IOException;
    }

    private static void assertClosedWithoutAnswer(Call call) {
        try {
            call.run();
            throw new AssertionError("the coordinator answered a call with a wrong secret");
        } catch (EOFException e) {
            // Closed without a word, as intended.
        } catch (IOException e) {
            // A reset: also closed without an answer.
        }
    }
}
