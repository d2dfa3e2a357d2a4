package dev.ember.transport.tcp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.ember.api.worker.WorkerChannel;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.transport.common.ChannelRegistry;
import dev.ember.transport.common.DaemonSet;
import dev.ember.transport.common.PythonDaemon;
import dev.ember.security.Secrets;
import dev.ember.transport.common.StreamWorkerChannel;

/**
 * Reaches Python workers over loopback TCP. A Python daemon per worker spec listens on an ephemeral loopback port
 * and forks a worker for each connection; a connection must open with this transport's random secret before the
 * worker answers with its pid, so no other local process can get a worker.
 */
@Component(configurationPid = "dev.ember.transport.tcp",
        property = { WorkerTransport.NAME_PROPERTY + "=" + TcpWorkerTransport.NAME, "service.ranking:Integer=10" })
@Designate(ocd = TcpWorkerTransport.Config.class)
public final class TcpWorkerTransport implements WorkerTransport {

    static final String NAME = "tcp";

    @ObjectClassDefinition(name = "Ember TCP worker transport")
    public @interface Config {
        @AttributeDefinition(description = "Milliseconds to start the daemon, or to connect and authenticate a worker")
        int connectTimeoutMillis() default 20_000;
    }

    /** Made at first use, by the thread that starts the first daemon, off the framework's boot. */
    private byte[] secret;
    private final ChannelRegistry channels = new ChannelRegistry();
    private volatile int timeoutMillis = 20_000;
    private final DaemonSet daemons = new DaemonSet(spec -> PythonDaemon.start(spec, NAME,
            Map.of("EMBER_WORKER_SECRET", new String(secret(), StandardCharsets.UTF_8)), timeoutMillis));

    private synchronized byte[] secret() {
        if (secret == null) {
            secret = Secrets.hex(24).getBytes(StandardCharsets.UTF_8);
        }
        return secret;
    }

    @Activate
    @Modified
    void configure(Config config) {
        timeoutMillis = config.connectTimeoutMillis();
    }

    @Deactivate
    void deactivate() {
        channels.closeAll();
        daemons.stopAll();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Starts the spec's daemon in the background, so the first worker is a fork away. */
    @Override
    public void prepare(WorkerSpec spec) {
        daemons.prepare(spec);
    }

    @Override
    public WorkerChannel open(WorkerSpec spec) throws IOException {
        PythonDaemon daemon = daemons.get(spec);
        int port;
        try {
            port = Integer.parseInt(daemon.address().trim());
        } catch (NumberFormatException e) {
            throw new IOException("the Python daemon (pid " + daemon.pid() + ") announced '" + daemon.address()
                    + "', which is not a port", e);
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            long pid = StreamWorkerChannel.handshake(socket.getInputStream(), socket.getOutputStream(), secret());
            socket.setSoTimeout(0);
            return channels.track(new StreamWorkerChannel(NAME, pid, socket.getInputStream(), socket.getOutputStream(),
                    socket, () -> daemon.outputOf(pid)));
        } catch (IOException e) {
            socket.close();
            throw new IOException("could not get a worker from the Python daemon (pid " + daemon.pid() + ") on port "
                    + port + ": " + e.getMessage() + daemon.describeExit(), e);
        }
    }
}
