package dev.ember.engine.cluster;

import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import com.hazelcast.cluster.Member;

/** The Gogo command {@code ember:members}: this node's role and the cluster's members with their task slots. */
@Component(service = ClusterCommands.class, property = { "osgi.command.scope=ember",
        "osgi.command.function=members" })
public final class ClusterCommands {

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<ClusterView> views;

    public String members() {
        StringBuilder out = new StringBuilder();
        for (ClusterView view : views) {
            out.append(view.role()).append('\n');
            ClusterNode node = view.clusterNode();
            if (node == null) {
                continue;
            }
            out.append(String.format("  %-22s %-6s %s%n", "address", "slots", "id"));
            for (Member member : node.members()) {
                out.append(String.format("  %-22s %-6d %s%s%n", ClusterNode.describe(member), ClusterNode.slotsOf(member),
                        member.getUuid(), member.localMember() ? " (this node)" : ""));
            }
        }
        return out.length() == 0 ? "this node is not part of a cluster\n" : out.toString();
    }
}
