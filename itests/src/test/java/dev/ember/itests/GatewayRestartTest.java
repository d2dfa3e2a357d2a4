package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.util.tracker.ServiceTracker;

import dev.ember.api.engine.Engine;
import dev.ember.api.gateway.Gateway;

/**
 * Restarting the gateway bundle drops connected clients and brings up a gateway that takes new ones, while the
 * engine stays as it was.
 */
@ExtendWith(BundleContextExtension.class)
class GatewayRestartTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void restartingTheGatewayDropsClientsAndServesNewOnes() throws Exception {
        Gateway before = await(Gateway.class);
        Engine engine = await(Engine.class);
        Bundle engineBundle = bundleOf("dev.ember.engine");
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), before.port())) {
            client.setSoTimeout(10_000);
            Bundle gatewayBundle = bundleOf("dev.ember.gateway.py4j");
            gatewayBundle.stop();
            // The old connection is closed by the gateway going away: reading ends instead of blocking.
            assertEquals(-1, client.getInputStream().read());
            gatewayBundle.start();
        }
        Gateway after = await(Gateway.class);
        assertNotEquals(before.port(), after.port(), "a new gateway on a new port");
        assertEquals(0, after.sessionCount());
        assertEquals(Bundle.ACTIVE, engineBundle.getState());
        assertTrue(engine == await(Engine.class), "the engine instance was not disturbed");
        // The new gateway answers the Py4J handshake: a wrong token is refused with an error, not ignored.
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), after.port())) {
            client.setSoTimeout(10_000);
            OutputStream out = client.getOutputStream();
            out.write("A\nnot-the-secret\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            String answer = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            assertNotNull(answer, "the new gateway closed the connection without answering");
            assertTrue(answer.startsWith("!x"), "expected Py4J's error answer to a wrong token, got " + answer);
        }
    }

    private Bundle bundleOf(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }

    private <T> T await(Class<T> type) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        try {
            T service = tracker.waitForService(5000);
            assertNotNull(service, type.getSimpleName() + " is not registered");
            return service;
        } finally {
            tracker.close();
        }
    }
}
