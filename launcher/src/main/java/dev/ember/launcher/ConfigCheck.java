package dev.ember.launcher;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks a configuration's values against the attributes its components declare (their metatype): a value that
 * does not parse as its attribute's type is named in one line and left out, so the component gets its default
 * instead of failing with a stack trace; a key no attribute declares is named with the known ones.
 */
final class ConfigCheck {

    /**
     * What was found: one line per problem, and the keys whose values must be left out.
     *
     * @param lines   say what is wrong and what happens instead, without a prefix
     * @param invalid the keys whose values do not parse
     */
    record Result(List<String> lines, Set<String> invalid) {
        boolean clean() {
            return lines.isEmpty();
        }
    }

    private ConfigCheck() {
    }

    /**
     * @param where      how the lines name the configuration ({@code conf/dev.ember.gateway.py4j.cfg})
     * @param values     the configuration's properties
     * @param attributes what its components declare
     */
    static Result check(String where, Map<String, ?> values, List<Metatype.Attribute> attributes) {
        List<String> lines = new ArrayList<>();
        Set<String> invalid = new LinkedHashSet<>();
        for (Map.Entry<String, ?> entry : values.entrySet()) {
            String key = entry.getKey();
            Metatype.Attribute attribute = null;
            List<String> known = new ArrayList<>();
            for (Metatype.Attribute candidate : attributes) {
                known.add(candidate.id());
                if (candidate.id().equals(key)) {
                    attribute = candidate;
                }
            }
            if (attribute == null) {
                if (!managedElsewhere(key)) {
                    lines.add(where + ": unknown key \"" + key + "\" (known: " + String.join(", ", known)
                            + "); it is ignored");
                }
                continue;
            }
            String expected = attribute.cardinality() == 0 ? problem(attribute.type(), entry.getValue()) : null;
            if (expected != null) {
                invalid.add(key);
                lines.add(where + ": " + key + " = \"" + entry.getValue() + "\" is not " + expected
                        + (attribute.defaultValue() == null ? "; it is ignored"
                                : "; using the default " + attribute.defaultValue()));
            }
        }
        return new Result(List.copyOf(lines), Set.copyOf(invalid));
    }

    /**
     * Keys that are not the components' attributes but mean something anyway: reference target filters
     * ({@code transport.target}), and what ConfigAdmin, FileInstall and Declarative Services add.
     */
    static boolean managedElsewhere(String key) {
        return key.endsWith(".target") || key.startsWith("service.") || key.startsWith("felix.")
                || key.startsWith("component.") || key.startsWith("osgi.");
    }

    /** What a value of this metatype type must be, when it is not that; null when it is fine. */
    static String problem(String type, Object value) {
        if (value == null) {
            return null;
        }
        String text = value.toString().strip();
        return switch (type.toLowerCase(Locale.ROOT)) {
            case "integer" -> value instanceof Integer || integer(text, Integer.MIN_VALUE, Integer.MAX_VALUE) ? null
                    : "an integer";
            case "long" -> value instanceof Long || value instanceof Integer
                    || integer(text, Long.MIN_VALUE, Long.MAX_VALUE) ? null : "an integer";
            case "short" -> value instanceof Short || integer(text, Short.MIN_VALUE, Short.MAX_VALUE) ? null
                    : "an integer from -32768 to 32767";
            case "byte" -> value instanceof Byte || integer(text, Byte.MIN_VALUE, Byte.MAX_VALUE) ? null
                    : "an integer from -128 to 127";
            case "double", "float" -> value instanceof Number || decimal(text) ? null : "a number";
            case "boolean" -> value instanceof Boolean || text.equalsIgnoreCase("true")
                    || text.equalsIgnoreCase("false") ? null : "true or false";
            case "char", "character" -> value instanceof Character || text.length() == 1 ? null
                    : "a single character";
            default -> null; // String, Password: anything goes
        };
    }

    /** Whether the text is a decimal integer within these bounds (as SCR's coercion parses it). */
    private static boolean integer(String text, long min, long max) {
        try {
            long parsed = Long.parseLong(text);
            return parsed >= min && parsed <= max;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean decimal(String text) {
        try {
            Double.parseDouble(text);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
