package dev.ember.transport.common;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The channels a transport opened, so that stopping the transport ends every one of its workers. */
public final class ChannelRegistry {

    private final Set<StreamWorkerChannel> open = ConcurrentHashMap.newKeySet();

    public StreamWorkerChannel track(StreamWorkerChannel channel) {
        open.add(channel);
        channel.onClose(() -> open.remove(channel));
        return channel;
    }

    public void closeAll() {
        List<StreamWorkerChannel> channels = new ArrayList<>(open);
        open.clear();
        channels.parallelStream().forEach(StreamWorkerChannel::close);
    }
}
