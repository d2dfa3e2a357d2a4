package dev.ember.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/ember shell} when the service runs: connects to its remote Gogo shell with the secret from
 * {@code run/shell.json}, sends each line typed and prints the replies. {@code exit} or end of input leaves; the
 * service keeps running.
 */
public final class RemoteShellClient {

    private static final String END_OF_REPLY = "\u0004";

    private RemoteShellClient() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            System.err.println("ember: " + file + " is missing: the service has no remote shell (is it running? the "
                    + "shell is off unless shell.enabled = true in conf/dev.ember.shell.cfg)");
            System.exit(1);
            return;
        }
        String secret = field(json, "\"secret\":\"([0-9a-f]+)\"");
        int port = Integer.parseInt(field(json, "\"port\":(\\d+)"));
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            PrintStream out = new PrintStream(socket.getOutputStream(), true, StandardCharsets.UTF_8);
            BufferedReader replies = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            out.println(secret);
            if (!"ok".equals(replies.readLine())) {
                System.err.println("ember: the service refused the shell's secret (is " + file + " current?)");
                System.exit(1);
            }
            BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            boolean interactive = System.console() != null;
            System.out.println("ember: connected to the service's Gogo shell on port " + port
                    + " (exit or Ctrl-D to leave; the service keeps running)");
            while (true) {
                if (interactive) {
                    System.out.print("g! ");
                    System.out.flush();
                }
                String line = input.readLine();
                if (line == null || line.strip().equals("exit")) {
                    return;
                }
                out.println(line);
                for (String reply = replies.readLine(); reply != null && !reply.equals(END_OF_REPLY);
                        reply = replies.readLine()) {
                    System.out.println(reply);
                }
                System.out.flush();
            }
        } catch (IOException e) {
            System.err.println("ember: cannot reach the service's shell on port " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }

    private static String field(String json, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(json);
        if (!matcher.find()) {
            throw new IllegalStateException("malformed shell file: " + json);
        }
        return matcher.group(1);
    }
}
