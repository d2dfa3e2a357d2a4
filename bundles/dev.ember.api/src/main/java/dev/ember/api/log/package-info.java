/**
 * Control of the distribution's logging while it runs.
 */
@Export
@Version("1.0.0")
package dev.ember.api.log;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
