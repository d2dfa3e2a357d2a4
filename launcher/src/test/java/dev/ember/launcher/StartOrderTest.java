package dev.ember.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/** The boot order, and which of the distribution's jars a driver-launched JVM installs only after its gateway. */
class StartOrderTest {

    /** bundle/ as the build lays it out: artifactId-version.jar. */
    private static final List<String> DISTRIBUTION = List.of(
            "dev.ember.api-0.1.0-SNAPSHOT.jar", "dev.ember.codec.json-0.1.0-SNAPSHOT.jar",
            "dev.ember.codec.pickle-0.1.0-SNAPSHOT.jar", "dev.ember.codec.text-0.1.0-SNAPSHOT.jar",
            "dev.ember.engine-0.1.0-SNAPSHOT.jar", "dev.ember.gateway.py4j-0.1.0-SNAPSHOT.jar",
            "dev.ember.log-0.1.0-SNAPSHOT.jar", "dev.ember.shell-0.1.0-SNAPSHOT.jar",
            "dev.ember.transport.tcp-0.1.0-SNAPSHOT.jar", "dev.ember.ui-0.1.0-SNAPSHOT.jar", "gson-2.15.0.jar", "org.apache.felix.configadmin-1.9.26.jar",
            "org.apache.felix.fileinstall-3.7.4.jar", "org.apache.felix.gogo.command-1.1.2.jar",
            "org.apache.felix.gogo.runtime-1.1.6.jar", "org.apache.felix.gogo.shell-1.1.4.jar",
            "org.apache.felix.log-1.3.0.jar", "org.apache.felix.scr-2.2.18.jar", "org.osgi.service.component-1.5.1.jar",
            "org.osgi.util.function-1.2.0.jar", "org.osgi.util.promise-1.3.0.jar");

    @Test
    void jarNamesGiveTheSymbolicName() {
        assertEquals("dev.ember.gateway.py4j", Main.nameOf(Path.of("bundle/dev.ember.gateway.py4j-0.1.0-SNAPSHOT.jar")));
        assertEquals("org.apache.felix.gogo.runtime", Main.nameOf(Path.of("org.apache.felix.gogo.runtime-1.1.6.jar")));
        assertEquals("unversioned", Main.nameOf(Path.of("unversioned.jar")));
    }

    @Test
    void onlyTheToolsWaitUntilTheGatewayIsUp() {
        List<String> deferred = DISTRIBUTION.stream().map(Path::of).map(Main::nameOf)
                .filter(name -> Main.startOrder(name) >= Main.TOOLS).sorted().collect(Collectors.toList());
        assertEquals(List.of("dev.ember.shell", "org.apache.felix.fileinstall", "org.apache.felix.gogo.command",
                "org.apache.felix.gogo.runtime", "org.apache.felix.gogo.shell"), deferred);
    }

    @Test
    void configAdminThenScrThenTheLogThenEmberWithTheGatewayLast() {
        int configAdmin = Main.startOrder("org.apache.felix.configadmin");
        int scr = Main.startOrder("org.apache.felix.scr");
        int log = Main.startOrder("dev.ember.log");
        int engine = Main.startOrder("dev.ember.engine");
        int gateway = Main.startOrder("dev.ember.gateway.py4j");
        assertTrue(configAdmin < scr && scr < log && log < engine && engine < gateway,
                List.of(configAdmin, scr, log, engine, gateway).toString());
        assertTrue(Main.startOrder("dev.ember.transport.tcp") < gateway);
        assertTrue(Main.startOrder("dev.ember.codec.pickle") < gateway);
        // The worker daemon starts as the engine binds a transport; that should happen before the codecs start.
        assertTrue(Main.startOrder("dev.ember.transport.tcp") < Main.startOrder("dev.ember.codec.pickle"));
        assertTrue(engine < Main.startOrder("dev.ember.codec.pickle"));
    }

    @Test
    void theWebUiStartsRightAfterTheGatewayAndBeforeTheTools() {
        int ui = Main.startOrder("dev.ember.ui");
        assertTrue(Main.startOrder("dev.ember.gateway.py4j") < ui);
        assertTrue(ui < Main.TOOLS, "the UI is started in the boot, not deferred with the tools");
    }
}
