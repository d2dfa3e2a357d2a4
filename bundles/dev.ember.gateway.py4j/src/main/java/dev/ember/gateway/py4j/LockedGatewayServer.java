package dev.ember.gateway.py4j;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import javax.net.ServerSocketFactory;

import py4j.Gateway;
import py4j.GatewayConnection;
import py4j.GatewayServer;
import py4j.Py4JServerConnection;
import py4j.commands.CallCommand;
import py4j.commands.Command;
import py4j.commands.ExceptionCommand;
import py4j.commands.MemoryCommand;

/**
 * A Py4J server whose connections understand only method calls, reference release and exception details: no JVM
 * view, reflection, constructors, fields, arrays or remote shutdown. Each connection checks the secret itself.
 */
final class LockedGatewayServer extends GatewayServer {

    private static final Set<Class<? extends Command>> ALLOWED = Set.of(CallCommand.class, MemoryCommand.class,
            ExceptionCommand.class);

    private final String secret;

    LockedGatewayServer(LockedGateway gateway, InetAddress address, int port, String secret,
            ServerSocketFactory sockets) {
        super(gateway, port, address, 0, 0, null, sockets);
        this.secret = secret;
    }

    @Override
    protected Py4JServerConnection createConnection(Gateway gateway, Socket socket) throws IOException {
        LockedConnection connection = new LockedConnection(gateway, socket, secret, getListeners());
        connection.startConnection();
        return connection;
    }

    private static final class LockedConnection extends GatewayConnection {
        LockedConnection(Gateway gateway, Socket socket, String secret, List<py4j.GatewayServerListener> listeners)
                throws IOException {
            super(gateway, socket, secret, null, listeners);
        }

        @Override
        protected void initCommands(Gateway gateway, List<Class<? extends Command>> commands) {
            List<Class<? extends Command>> allowed = new ArrayList<>();
            for (Class<? extends Command> command : commands) {
                if (ALLOWED.contains(command)) {
                    allowed.add(command);
                }
            }
            super.initCommands(gateway, allowed);
        }
    }
}
