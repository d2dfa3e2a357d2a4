package dev.ember.api.gateway;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A running gateway through which drivers reach the engine, registered with the {@value #NAME_PROPERTY} property.
 * Lets the shell and tests see what is listening without reaching into the gateway bundle.
 */
@ProviderType
public interface Gateway {

    /** Service property naming the gateway kind, for example {@code py4j}. */
    String NAME_PROPERTY = "ember.gateway";

    /** The address the gateway listens on. */
    String bindAddress();

    /** The port drivers connect to. */
    int port();

    /** How many driver sessions are open. */
    int sessionCount();
}
