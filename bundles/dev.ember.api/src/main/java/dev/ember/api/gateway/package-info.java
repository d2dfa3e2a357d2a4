/**
 * What a gateway (the door drivers come through) shows of itself to the shell and to tests.
 */
@Export
@Version("1.0.0")
package dev.ember.api.gateway;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
