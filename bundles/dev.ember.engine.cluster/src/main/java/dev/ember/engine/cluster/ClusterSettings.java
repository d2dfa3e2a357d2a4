package dev.ember.engine.cluster;

import java.util.function.BiConsumer;

/** Hazelcast properties members and drivers share. */
final class ClusterSettings {

    private ClusterSettings() {
    }

    /**
     * No phone-home, Hazelcast's JUL logging (into Ember's log), no shutdown hook of its own (the framework stops
     * it), and failure detection within {@code timeoutSeconds}.
     */
    static void common(BiConsumer<String, String> property, int heartbeatSeconds, int timeoutSeconds) {
        property.accept("hazelcast.phone.home.enabled", "false");
        property.accept("hazelcast.logging.type", "jdk");
        property.accept("hazelcast.shutdownhook.enabled", "false");
        property.accept("hazelcast.heartbeat.interval.seconds", String.valueOf(Math.max(1, heartbeatSeconds)));
        property.accept("hazelcast.max.no.heartbeat.seconds", String.valueOf(Math.max(2, timeoutSeconds)));
        // A member joins the ones it finds at once instead of waiting 5 s for more to show up.
        property.accept("hazelcast.wait.seconds.before.join", "0");
        property.accept("hazelcast.max.wait.seconds.before.join", "1");
        // Ember keeps no data in Hazelcast's partitions: few of them start and migrate faster.
        property.accept("hazelcast.partition.count", "11");
    }
}
