package dev.ember.api.monitor;

import org.osgi.annotation.versioning.ProviderType;

/** The web UI, when its bundle runs: the gateway hands its address to drivers ({@code sc.uiWebUrl}). */
@ProviderType
public interface WebUi {

    /** The UI's base URL, for example {@code http://127.0.0.1:4040}. */
    String url();
}
