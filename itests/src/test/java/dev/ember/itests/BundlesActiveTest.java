package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.Engine;
import dev.ember.api.gateway.Gateway;
import dev.ember.api.worker.WorkerTransport;

@ExtendWith({ BundleContextExtension.class, ServiceExtension.class })
class BundlesActiveTest {

    static final List<String> EMBER_BUNDLES = List.of("dev.ember.api", "dev.ember.engine", "dev.ember.gateway.py4j",
            "dev.ember.transport.tcp", "dev.ember.codec.pickle");

    @InjectBundleContext
    BundleContext context;

    @Test
    void everyEmberBundleIsActive() {
        Map<String, Bundle> bySymbolicName = Arrays.stream(context.getBundles())
                .collect(Collectors.toMap(Bundle::getSymbolicName, Function.identity(), (a, b) -> a));
        for (String name : EMBER_BUNDLES) {
            Bundle bundle = bySymbolicName.get(name);
            assertNotNull(bundle, name + " is not installed");
            assertEquals(Bundle.ACTIVE, bundle.getState(), name + " is not active");
        }
    }

    @Test
    void engineServiceIsRegistered(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine) {
        assertNotNull(engine);
    }

    @Test
    void gatewayListensOnLoopback(@InjectService(timeout = 5000, filter = "(ember.gateway=py4j)") Gateway gateway) {
        assertEquals("127.0.0.1", gateway.bindAddress());
        assertTrue(gateway.port() > 0, "gateway port " + gateway.port());
    }

    @Test
    void tcpTransportIsRegistered(
            @InjectService(timeout = 5000, filter = "(ember.transport=tcp)") WorkerTransport transport) {
        assertEquals("tcp", transport.name());
    }

    @Test
    void pickleCodecIsRegistered(@InjectService(timeout = 5000, filter = "(ember.codec=pickle)") Codec codec) {
        assertEquals(List.of(1, "two"), codec.decode(codec.encode(List.of(1, "two"))));
    }

    /**
     * Each bundle imports only the contract packages of the roles it deals with, so a new major version of one
     * (say the engine's) leaves the bundles that never touch it resolved: transports and codecs know nothing of
     * engines, codecs nothing of workers.
     */
    @Test
    void bundlesImportOnlyTheContractsOfTheirRole() {
        Map<String, List<String>> forbidden = Map.of(
                "dev.ember.transport.tcp", List.of("dev.ember.api.engine", "dev.ember.api.codec"),
                "dev.ember.transport.uds", List.of("dev.ember.api.engine", "dev.ember.api.codec"),
                "dev.ember.transport.pipe", List.of("dev.ember.api.engine", "dev.ember.api.codec"),
                "dev.ember.codec.pickle", List.of("dev.ember.api.engine", "dev.ember.api.worker"),
                "dev.ember.codec.text", List.of("dev.ember.api.engine", "dev.ember.api.worker"),
                "dev.ember.codec.json", List.of("dev.ember.api.engine", "dev.ember.api.worker"));
        for (Bundle bundle : context.getBundles()) {
            List<String> notAllowed = forbidden.get(bundle.getSymbolicName());
            if (notAllowed == null) {
                continue;
            }
            String imports = bundle.getHeaders().get("Import-Package");
            assertNotNull(imports, bundle.getSymbolicName() + " imports nothing?");
            assertTrue(imports.contains("dev.ember.api."), bundle.getSymbolicName() + " imports no contract: " + imports);
            for (String contract : notAllowed) {
                // The package name, not followed by more of a name (dev.ember.api.engine, not ...engine.x).
                boolean imported = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(contract)
                        + "(?![\\w.])").matcher(imports).find();
                assertTrue(!imported, bundle.getSymbolicName() + " imports " + contract + ": " + imports);
            }
        }
    }
}
