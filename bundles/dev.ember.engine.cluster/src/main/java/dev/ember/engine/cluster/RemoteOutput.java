package dev.ember.engine.cluster;

import dev.ember.engine.core.StoredOutput;

/** A task's shuffle or cache output that the member which ran it keeps. */
record RemoteOutput(ClusterConnection connection, String session, String member, String key) implements StoredOutput {

    /** Asks the member to free it, without waiting; a member that left has freed it already. */
    @Override
    public void discard() {
        connection.dropLater(member, session, key);
    }
}
