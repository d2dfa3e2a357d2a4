package dev.ember.engine.cluster;

/** What the shell shows of this JVM's part in a cluster (a member, or a driver's connections); internal. */
public interface ClusterView {

    /** This node's role, in a line. */
    String role();

    /** The Hazelcast side, or null when not connected. */
    ClusterNode clusterNode();
}
