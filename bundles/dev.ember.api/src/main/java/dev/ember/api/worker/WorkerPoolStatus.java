package dev.ember.api.worker;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The Python workers one node holds and the transport it reaches them through, for the shell and for status
 * calls. Registered by whatever runs workers on this node (the local engine, a cluster member).
 */
@ProviderType
public interface WorkerPoolStatus {

    /** The name of the transport new tasks use now, or null if none is bound. */
    String activeTransport();

    /** The workers held now. */
    List<WorkerInfo> workers();
}
