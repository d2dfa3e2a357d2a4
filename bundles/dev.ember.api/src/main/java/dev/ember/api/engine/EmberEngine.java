package dev.ember.api.engine;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Names an {@link Engine} component: {@code @EmberEngine("local")} on the component class sets the service property
 * {@value Engine#NAME_PROPERTY}{@code =local} (Declarative Services derives the property name from this type's
 * name).
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface EmberEngine {

    /** The engine's name: {@code local}, {@code cluster}, or another that a master URL or setting selects. */
    String value();
}
