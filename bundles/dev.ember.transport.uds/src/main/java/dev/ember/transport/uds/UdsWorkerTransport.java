package dev.ember.transport.uds;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.ember.api.worker.WorkerChannel;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.transport.common.ChannelRegistry;
import dev.ember.transport.common.ChannelStreams;
import dev.ember.transport.common.DaemonSet;
import dev.ember.transport.common.PythonDaemon;
import dev.ember.security.Secrets;
import dev.ember.transport.common.StreamWorkerChannel;

/**
 * Reaches Python workers over Unix domain sockets. The daemons' sockets live in a directory only this user can
 * enter (mode 0700), and each connection still opens with the transport's secret.
 */
@Component(property = { WorkerTransport.NAME_PROPERTY + "=" + UdsWorkerTransport.NAME, "service.ranking:Integer=20" })
public final class UdsWorkerTransport implements WorkerTransport {

    static final String NAME = "uds";
    private static final long TIMEOUT_MILLIS = 20_000;

    private final byte[] secret;
    private final ChannelRegistry channels = new ChannelRegistry();
    private final AtomicInteger daemonCount = new AtomicInteger();
    private final Path directory;
    private final DaemonSet daemons;

    @Activate
    public UdsWorkerTransport() throws IOException {
        String hex = Secrets.hex(24);
        secret = hex.getBytes(StandardCharsets.UTF_8);
        directory = Files.createTempDirectory("ember-uds-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        daemons = new DaemonSet(spec -> PythonDaemon.start(spec, NAME, Map.of("EMBER_WORKER_SECRET", hex,
                "EMBER_DAEMON_SOCKET", directory.resolve("daemon-" + daemonCount.incrementAndGet() + ".sock")
                        .toString()), TIMEOUT_MILLIS));
    }

    @Deactivate
    void deactivate() {
        channels.closeAll();
        daemons.stopAll();
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // A socket directory left in the temp directory is harmless.
        }
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
        Path socketPath = Path.of(daemon.address().trim());
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socketPath));
            long pid = StreamWorkerChannel.handshake(ChannelStreams.input(channel), ChannelStreams.output(channel),
                    secret);
            return channels.track(new StreamWorkerChannel(NAME, pid, ChannelStreams.input(channel),
                    ChannelStreams.output(channel), channel, () -> daemon.outputOf(pid)));
        } catch (IOException e) {
            channel.close();
            throw new IOException("could not get a worker from the Python daemon (pid " + daemon.pid() + ") at "
                    + socketPath + ": " + e.getMessage() + daemon.describeExit(), e);
        }
    }
}
