package dev.ember.gateway.py4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.annotation.Annotation;

import org.junit.jupiter.api.Test;

/** Where a service listens, and what a gateway whose port is taken says. */
class GatewayPortTest {

    private static Py4jGateway.Config config(int servicePort) {
        return new Py4jGateway.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return Py4jGateway.Config.class;
            }

            @Override
            public String bindAddress() {
                return "127.0.0.1";
            }

            @Override
            public int port() {
                return 0;
            }

            @Override
            public int servicePort() {
                return servicePort;
            }

            @Override
            public int sessionAttachTimeoutSeconds() {
                return 30;
            }
        };
    }

    @Test
    void aServiceListensOnItsConfiguredPortUnlessThePropertyOverridesIt() {
        assertEquals(7787, Py4jGateway.DEFAULT_SERVICE_PORT);
        assertEquals(7800, Py4jGateway.servicePort(config(7800), null));
        assertEquals(0, Py4jGateway.servicePort(config(7800), "0"));
        assertEquals(7800, Py4jGateway.servicePort(config(7800), "zero"), "a bad override is ignored");
    }

    @Test
    void aTakenPortIsOneLineNamingTheKeyToChange() {
        assertEquals("the gateway cannot listen on 127.0.0.1:7787: the port is in use (another Ember service, or "
                + "another program); set servicePort in conf/dev.ember.gateway.py4j.cfg to a free port (0 picks one)",
                Py4jGateway.portInUse("127.0.0.1", 7787, "servicePort"));
    }

    @Test
    void theEntryPointSaysUnknownVersionOutsideAFramework() {
        assertEquals("unknown", new EntryPoint(new Engines(), () -> null, level -> { }, 30).version());
    }
}
