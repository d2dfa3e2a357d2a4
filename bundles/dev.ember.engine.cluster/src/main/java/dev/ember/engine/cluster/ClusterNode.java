package dev.ember.engine.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.google.gson.JsonObject;
import com.hazelcast.client.HazelcastClientNotActiveException;
import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.spi.exception.TargetDisconnectedException;
import com.hazelcast.spi.exception.TargetNotMemberException;

/**
 * This JVM's Hazelcast instance (a member, or a driver's client) with what Ember asks of it: the members and their
 * task slots, and signed calls to one member that fail with {@link MemberGone} when it is not there.
 */
final class ClusterNode {

    /** The executor tasks are started and awaited on. */
    static final String TASK_EXECUTOR = "ember-tasks";
    /** Fetches of stored output get their own threads, so they never wait behind task calls. */
    static final String FETCH_EXECUTOR = "ember-fetch";
    /** A member attribute: how many tasks the member runs at once. */
    static final String SLOTS_ATTRIBUTE = "ember.slots";
    /** How long one call may take before the member counts as gone (a task's result is awaited in short calls). */
    static final long CALL_TIMEOUT_SECONDS = 120;

    /** The member a call was for is not in the cluster (it left, or never was). */
    static final class MemberGone extends Exception {
        private static final long serialVersionUID = 1L;

        MemberGone(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final HazelcastInstance instance;
    private final Signer signer;
    private final boolean member;

    ClusterNode(HazelcastInstance instance, Signer signer, boolean member) {
        this.instance = instance;
        this.signer = signer;
        this.member = member;
    }

    HazelcastInstance instance() {
        return instance;
    }

    Signer signer() {
        return signer;
    }

    /** This node's id: a member's UUID, or a client's. */
    String localId() {
        return member ? instance.getCluster().getLocalMember().getUuid().toString()
                : instance.getLocalEndpoint().getUuid().toString();
    }

    String describeSelf() {
        return member ? describe(instance.getCluster().getLocalMember()) : "driver " + localId();
    }

    static String describe(Member member) {
        return member.getAddress().getHost() + ":" + member.getAddress().getPort();
    }

    /** The data members now, oldest first. */
    List<Member> members() {
        List<Member> members = new ArrayList<>();
        for (Member candidate : instance.getCluster().getMembers()) {
            if (!candidate.isLiteMember()) {
                members.add(candidate);
            }
        }
        return members;
    }

    Member member(String id) {
        for (Member candidate : instance.getCluster().getMembers()) {
            if (candidate.getUuid().toString().equals(id)) {
                return candidate;
            }
        }
        return null;
    }

    static int slotsOf(Member member) {
        String slots = member.getAttribute(SLOTS_ATTRIBUTE);
        try {
            return slots == null ? 1 : Math.max(1, Integer.parseInt(slots));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** A signed call to one member, waited for; fails with MemberGone when the member is not (or no longer) there. */
    ClusterReply call(String memberId, String executor, String op, JsonObject header, List<byte[]> blobs)
            throws MemberGone {
        Member target = member(memberId);
        if (target == null) {
            throw new MemberGone("member " + memberId + " is not in the cluster", null);
        }
        return call(target, executor, op, header, blobs);
    }

    ClusterReply call(Member target, String executor, String op, JsonObject header, List<byte[]> blobs)
            throws MemberGone {
        try {
            return instance.getExecutorService(executor)
                    .submitToMember(new ClusterCall(signer, op, header, blobs), target)
                    .get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MemberGone("interrupted while calling " + describe(target), e);
        } catch (TimeoutException e) {
            throw new MemberGone(describe(target) + " did not answer within " + CALL_TIMEOUT_SECONDS + " s", e);
        } catch (ExecutionException e) {
            if (gone(e.getCause())) {
                throw new MemberGone(describe(target) + " left the cluster (" + e.getCause() + ")", e.getCause());
            }
            throw new IllegalStateException("cluster call " + op + " to " + describe(target) + " failed: "
                    + e.getCause(), e.getCause());
        } catch (RuntimeException e) {
            if (gone(e)) {
                throw new MemberGone(describe(target) + " is unreachable (" + e + ")", e);
            }
            throw e;
        }
    }

    /** Whether a failure means the member (or the connection to the cluster) went away. */
    static boolean gone(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof MemberLeftException || t instanceof TargetNotMemberException
                    || t instanceof TargetDisconnectedException || t instanceof HazelcastInstanceNotActiveException
                    || t instanceof HazelcastClientNotActiveException) {
                return true;
            }
        }
        return false;
    }

    static UUID uuid(String id) {
        return UUID.fromString(id);
    }
}
