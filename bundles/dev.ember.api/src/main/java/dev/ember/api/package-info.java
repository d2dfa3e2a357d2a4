/**
 * Ember's service contracts: the engine that runs job plans, the transports that reach Python workers,
 * the codecs that frame records, and the listener that observes jobs. Implementations live in other bundles.
 */
@Export
@Version("1.2.0")
package dev.ember.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
