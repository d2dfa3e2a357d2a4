package dev.ember.shell;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.concurrent.Semaphore;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.ember.security.RefusalLog;
import dev.ember.security.Secrets;

/**
 * The Gogo shell of a running service, for {@code bin/ember shell}: a loopback socket that runs the commands of a
 * client that first sends the secret from {@code run/shell.json} (owner-only, written next to the gateway's
 * {@code run/gateway.json}). Only in service mode (when {@code EMBER_GATEWAY_FILE} is set), and only when
 * {@code shell.enabled = true} in {@code conf/dev.ember.shell.cfg}: Gogo runs OS commands and installs bundles from
 * any URL, so holding its secret is holding the service user's shell.
 * <p>
 * Protocol, UTF-8 lines: the client sends the secret; the server answers {@code ok} or {@code refused} (and closes).
 * Then for each command line the client sends, the server writes the command's output and result, then a line
 * holding only {@value #END_OF_REPLY} (ASCII EOT).
 */
@Component(immediate = true, configurationPid = "dev.ember.shell")
@Designate(ocd = RemoteShell.Config.class)
public final class RemoteShell {

    @ObjectClassDefinition(name = "Ember remote shell")
    public @interface Config {
        @AttributeDefinition(description = "Serve the Gogo shell to bin/ember shell in service mode (equivalent to "
                + "the service user's own shell for whoever can read run/shell.json)")
        boolean shell_enabled() default false;
    }

    static final int MAX_SECRET_LINE = 1024;
    static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    static final int MAX_UNAUTHENTICATED = 8;

    static final String END_OF_REPLY = "\u0004";
    private static final System.Logger LOG = System.getLogger(RemoteShell.class.getName());

    private final CommandProcessor processor;
    private final RefusalLog refusals = new RefusalLog("remote shell", 10,
            line -> LOG.log(System.Logger.Level.WARNING, line));
    private final Semaphore unauthenticated = new Semaphore(MAX_UNAUTHENTICATED);
    private ServerSocket server;
    private Path shellFile;
    private String secret;

    @Activate
    public RemoteShell(@Reference CommandProcessor processor, Config config) throws IOException {
        this.processor = processor;
        String gatewayFile = System.getenv("EMBER_GATEWAY_FILE");
        if (gatewayFile == null || gatewayFile.isEmpty()) {
            return; // Not a service: the terminal of 'bin/ember shell' is the shell.
        }
        if (!config.shell_enabled()) {
            LOG.log(System.Logger.Level.INFO, "remote shell is off (shell.enabled = false in conf/dev.ember.shell.cfg)");
            return;
        }
        secret = Secrets.hex(24);
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        shellFile = Path.of(gatewayFile).resolveSibling("shell.json");
        publish(shellFile, "{\"host\":\"127.0.0.1\",\"port\":" + server.getLocalPort() + ",\"secret\":\"" + secret
                + "\"}\n");
        Thread acceptor = new Thread(this::accept, "ember-remote-shell");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.log(System.Logger.Level.INFO, "remote shell on 127.0.0.1:{0} (bin/ember shell)",
                String.valueOf(server.getLocalPort()));
    }

    /** Writes the file owner-only, under a temporary name renamed into place. */
    private static void publish(Path file, String content) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temporary, content);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Deactivate
    void deactivate() throws IOException {
        if (server != null) {
            server.close();
            Files.deleteIfExists(shellFile);
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (!unauthenticated.tryAcquire()) {
                    refusals.refused("more than " + MAX_UNAUTHENTICATED + " connections are authenticating at once");
                    client.close();
                    continue;
                }
                Thread session = new Thread(() -> serve(client), "ember-remote-shell-session");
                session.setDaemon(true);
                session.start();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.log(System.Logger.Level.WARNING, "remote shell: accept failed: " + e);
                }
            }
        }
    }

    private void serve(Socket client) {
        boolean authenticated = false;
        try (client) {
            client.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            PrintStream reply = new PrintStream(out, true, StandardCharsets.UTF_8);
            byte[] offered = readSecretLine(in);
            if (offered == null || !MessageDigest.isEqual(offered, secret.getBytes(StandardCharsets.UTF_8))) {
                refusals.refused(offered == null ? "no secret line (too long, cut short or too slow)"
                        : "a wrong secret");
                reply.println("refused");
                return;
            }
            authenticated = true;
            unauthenticated.release();
            client.setSoTimeout(0);
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            reply.println("ok");
            CommandSession session = processor.createSession(InputStream.nullInputStream(), reply, reply);
            try {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    if (line.isBlank()) {
                        reply.println(END_OF_REPLY);
                        continue;
                    }
                    try {
                        Object result = session.execute(line);
                        if (result != null) {
                            reply.println(session.format(result, Converter.INSPECT));
                        }
                    } catch (Exception e) {
                        reply.println("gogo: " + e.getClass().getSimpleName() + ": " + e.getMessage());
                    }
                    reply.println(END_OF_REPLY);
                }
            } finally {
                session.close();
            }
        } catch (SocketException e) {
            // The client went away.
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "remote shell session failed: " + e);
        } finally {
            if (!authenticated) {
                unauthenticated.release();
            }
        }
    }

    /** The first line, without its newline, read a byte at a time (nothing beyond it is consumed); null if it is
     * longer than {@link #MAX_SECRET_LINE}, ends early or does not come within the handshake timeout. */
    private static byte[] readSecretLine(InputStream in) {
        byte[] line = new byte[MAX_SECRET_LINE];
        try {
            for (int length = 0; length < line.length; length++) {
                int next = in.read();
                if (next < 0) {
                    return null;
                }
                if (next == '\n') {
                    return java.util.Arrays.copyOf(line, length);
                }
                line[length] = (byte) next;
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }
}
