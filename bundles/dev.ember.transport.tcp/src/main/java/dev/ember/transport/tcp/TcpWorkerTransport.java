package dev.ember.transport.tcp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.ember.api.WorkerChannel;
import dev.ember.api.WorkerSpec;
import dev.ember.api.WorkerTransport;

/**
 * Reaches each Python worker over its own loopback TCP connection. For every worker a one-shot listening socket is
 * opened on an ephemeral port; the worker is started with that port and a fresh random secret in its environment and
 * must present the secret as its first frame, so no other local process can pose as the worker.
 */
@Component(configurationPid = "dev.ember.transport.tcp",
        property = { WorkerTransport.NAME_PROPERTY + "=" + TcpWorkerTransport.NAME, "service.ranking:Integer=10" })
@Designate(ocd = TcpWorkerTransport.Config.class)
public final class TcpWorkerTransport implements WorkerTransport {

    static final String NAME = "tcp";

    @ObjectClassDefinition(name = "Ember TCP worker transport")
    public @interface Config {
        @AttributeDefinition(description = "Milliseconds a new worker has to connect back and authenticate")
        int connectTimeoutMillis() default 20_000;
    }

    private final SecureRandom random = new SecureRandom();
    private final ProcessWorkers processes = new ProcessWorkers();
    private volatile int connectTimeoutMillis = 20_000;

    @Activate
    @Modified
    void configure(Config config) {
        connectTimeoutMillis = config.connectTimeoutMillis();
    }

    @Deactivate
    void deactivate() {
        processes.closeAll();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public WorkerChannel open(WorkerSpec spec) throws IOException {
        byte[] secretBytes = new byte[24];
        random.nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ProcessBuilder builder = new ProcessBuilder(List.of(spec.pythonExec(), "-m", "ember.worker"));
            Map<String, String> env = builder.environment();
            env.putAll(spec.env());
            env.put("EMBER_WORKER_TRANSPORT", NAME);
            env.put("EMBER_WORKER_PORT", Integer.toString(listener.getLocalPort()));
            env.put("EMBER_WORKER_SECRET", secret);
            WorkerProcess process = processes.start(builder, spec);
            try {
                Socket socket = acceptAuthenticated(listener, secret, process);
                TcpChannel channel = new TcpChannel(socket, process);
                processes.track(channel);
                return channel;
            } catch (IOException | RuntimeException e) {
                process.destroy();
                throw e;
            }
        }
    }

    private Socket acceptAuthenticated(ServerSocket listener, String secret, WorkerProcess process) throws IOException {
        long deadline = System.currentTimeMillis() + connectTimeoutMillis;
        byte[] expected = secret.getBytes(StandardCharsets.UTF_8);
        while (true) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new IOException("Python worker (pid " + process.pid() + ") did not connect within "
                        + connectTimeoutMillis + " ms" + process.describeExit());
            }
            // Wake up now and then to notice a worker that died before connecting.
            listener.setSoTimeout((int) Math.min(left, 200));
            Socket socket;
            try {
                socket = listener.accept();
            } catch (SocketTimeoutException e) {
                if (!process.isAlive()) {
                    throw new IOException("Python worker exited before connecting" + process.describeExit());
                }
                continue;
            }
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(connectTimeoutMillis);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] presented;
            try {
                int length = in.readInt();
                if (length < 0 || length > 1024) {
                    throw new IOException("bad secret frame length " + length);
                }
                presented = in.readNBytes(length);
            } catch (IOException e) {
                socket.close();
                continue;
            }
            if (!MessageDigest.isEqual(expected, presented)) {
                // Someone else connected to the port: refuse and keep waiting for the real worker.
                socket.close();
                continue;
            }
            socket.setSoTimeout(0);
            return socket;
        }
    }

    private static final class TcpChannel implements WorkerChannel, ProcessWorkers.Tracked {
        private final Socket socket;
        private final WorkerProcess process;
        private final DataInputStream input;
        private final DataOutputStream output;

        TcpChannel(Socket socket, WorkerProcess process) throws IOException {
            this.socket = socket;
            this.process = process;
            this.input = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
            this.output = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        }

        @Override
        public DataInputStream input() {
            return input;
        }

        @Override
        public DataOutputStream output() {
            return output;
        }

        @Override
        public long pid() {
            return process.pid();
        }

        @Override
        public String transport() {
            return NAME;
        }

        @Override
        public boolean isAlive() {
            return !socket.isClosed() && process.isAlive();
        }

        @Override
        public String stderrTail() {
            return process.outputTail();
        }

        @Override
        public WorkerProcess process() {
            return process;
        }

        @Override
        public void close() {
            process.stopGracefully(output, socket);
        }

        @Override
        public void abort() {
            process.destroy();
            try {
                socket.close();
            } catch (IOException e) {
                // Already closed.
            }
        }
    }
}
