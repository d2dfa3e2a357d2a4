package dev.ember.engine.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;

import dev.ember.engine.core.SchedulerSession;

/**
 * A driver's connection to one cluster (a Hazelcast client): the members and their free task slots, the sessions
 * that run there, and what happens when a member leaves: the output it kept is forgotten, so only the tasks that
 * made it run again.
 */
final class ClusterConnection implements MembershipListener {

    private static final System.Logger LOG = System.getLogger(ClusterConnection.class.getName());

    private final String description;
    private final ClusterNode node;
    private final ExecutorService background;
    private final Map<String, Integer> busy = new HashMap<>();
    private final Set<SchedulerSession> sessions = ConcurrentHashMap.newKeySet();
    /** Members that left while this driver watched: a late answer from one of them does not count. */
    private final Set<String> departed = ConcurrentHashMap.newKeySet();
    private int nextMember;

    ClusterConnection(String description, HazelcastInstance client, Signer signer, ExecutorService background) {
        this.description = description;
        this.node = new ClusterNode(client, signer, false);
        this.background = background;
        client.getCluster().addMembershipListener(this);
    }

    ClusterNode node() {
        return node;
    }

    String description() {
        return description;
    }

    void add(SchedulerSession session) {
        sessions.add(session);
    }

    void remove(SchedulerSession session) {
        sessions.remove(session);
    }

    boolean isEmpty() {
        return sessions.isEmpty();
    }

    /** The task slots of the members now. */
    int slots() {
        return node.members().stream().mapToInt(ClusterNode::slotsOf).sum();
    }

    boolean departed(String member) {
        return departed.contains(member);
    }

    /**
     * A member with a free task slot, taken for one task: the one with the most free slots, round robin among equals.
     * Waits while all are busy; fails when no member has been there for {@code noMemberSeconds}.
     */
    Member acquire(long noMemberSeconds) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(noMemberSeconds);
        synchronized (this) {
            while (true) {
                List<Member> members = node.members();
                Member best = null;
                int bestFree = 0;
                for (int i = 0; i < members.size(); i++) {
                    Member member = members.get((nextMember + i) % members.size());
                    int free = ClusterNode.slotsOf(member) - busy.getOrDefault(member.getUuid().toString(), 0);
                    if (free > bestFree) {
                        best = member;
                        bestFree = free;
                    }
                }
                if (best != null) {
                    nextMember++;
                    busy.merge(best.getUuid().toString(), 1, Integer::sum);
                    return best;
                }
                if (members.isEmpty() && System.nanoTime() > giveUp) {
                    return null;
                }
                if (!members.isEmpty()) {
                    giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(noMemberSeconds);
                }
                wait(200);
            }
        }
    }

    synchronized void release(Member member) {
        busy.computeIfPresent(member.getUuid().toString(), (key, count) -> count <= 1 ? null : count - 1);
        notifyAll();
    }

    @Override
    public void memberAdded(MembershipEvent event) {
        LOG.log(System.Logger.Level.INFO, "cluster {0}: member {1} joined; its slots serve the next tasks",
                description, ClusterNode.describe(event.getMember()));
        synchronized (this) {
            notifyAll();
        }
    }

    @Override
    public void memberRemoved(MembershipEvent event) {
        String member = event.getMember().getUuid().toString();
        LOG.log(System.Logger.Level.WARNING, "cluster {0}: member {1} left; the output it kept is made again where "
                + "needed", description, ClusterNode.describe(event.getMember()));
        lost(member);
    }

    /** Forgets what a member kept, in every session of this connection. */
    void lost(String member) {
        departed.add(member);
        for (SchedulerSession session : sessions) {
            session.invalidateOutputs(output -> output instanceof RemoteOutput remote && remote.member().equals(member));
        }
        synchronized (this) {
            busy.remove(member);
            notifyAll();
        }
    }

    /** Frees one stored output on its member, in the background. */
    void dropLater(String member, String session, String key) {
        if (departed.contains(member)) {
            return;
        }
        background.execute(() -> {
            JsonObject header = new JsonObject();
            header.addProperty("session", session);
            JsonArray keys = new JsonArray();
            keys.add(key);
            header.add("keys", keys);
            try {
                node.call(member, ClusterNode.FETCH_EXECUTOR, "drop", header, List.of());
            } catch (ClusterNode.MemberGone | RuntimeException e) {
                // Gone with the member.
            }
        });
    }

    /** Frees everything of a session on every member, in the background. */
    void endSession(String sessionKey) {
        List<Member> members = new ArrayList<>(node.members());
        background.execute(() -> {
            JsonObject header = new JsonObject();
            header.addProperty("session", sessionKey);
            for (Member member : members) {
                try {
                    node.call(member, ClusterNode.FETCH_EXECUTOR, "endSession", header, List.of());
                } catch (ClusterNode.MemberGone | RuntimeException e) {
                    // A member that left freed it already.
                }
            }
        });
    }

    void close() {
        try {
            node.instance().shutdown();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the cluster client: " + e);
        }
    }
}
