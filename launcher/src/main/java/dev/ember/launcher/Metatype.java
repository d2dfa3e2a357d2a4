package dev.ember.launcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the metatype documents ({@code OSGI-INF/metatype/*.xml}) that bnd writes for components' configuration
 * interfaces ({@code @ObjectClassDefinition}): which configuration PID has which attributes, of which type, with which
 * default. A small reader for those generated files, not a general XML parser: the launcher reads them while the
 * distribution boots, where a JAXP parser would cost tens of milliseconds of class loading.
 */
final class Metatype {

    /** One attribute ({@code <AD>}): its key in the configuration, type, default (or null) and cardinality. */
    record Attribute(String id, String type, String defaultValue, int cardinality) {
    }

    private Metatype() {
    }

    /** The attributes of each PID the document designates (both {@code pid} and {@code factoryPid}), in order. */
    static Map<String, List<Attribute>> parse(String xml) {
        Map<String, List<Attribute>> byOcd = new HashMap<>();
        Map<String, String> designated = new LinkedHashMap<>(); // pid -> ocdref
        List<Attribute> ocd = null;
        String designate = null;
        int at = 0;
        while ((at = xml.indexOf('<', at)) >= 0) {
            if (xml.startsWith("<!--", at)) {
                int close = xml.indexOf("-->", at);
                at = close < 0 ? xml.length() : close + 3;
                continue;
            }
            int end = tagEnd(xml, at);
            if (end < 0) {
                break;
            }
            String tag = xml.substring(at + 1, end);
            at = end + 1;
            boolean closing = tag.startsWith("/");
            String name = name(closing ? tag.substring(1) : tag);
            if (closing) {
                if (name.equals("OCD")) {
                    ocd = null;
                } else if (name.equals("Designate")) {
                    designate = null;
                }
                continue;
            }
            switch (name) {
                case "OCD" -> {
                    ocd = new ArrayList<>();
                    String id = attributes(tag).get("id");
                    if (id != null) {
                        byOcd.put(id, ocd);
                    }
                }
                case "AD" -> {
                    Map<String, String> values = attributes(tag);
                    if (ocd != null && values.get("id") != null) {
                        ocd.add(new Attribute(values.get("id"), values.getOrDefault("type", "String"),
                                values.get("default"), cardinality(values.get("cardinality"))));
                    }
                }
                case "Designate" -> {
                    Map<String, String> values = attributes(tag);
                    designate = values.get("factoryPid") != null ? values.get("factoryPid") : values.get("pid");
                }
                case "Object" -> {
                    String ocdref = attributes(tag).get("ocdref");
                    if (designate != null && ocdref != null) {
                        designated.put(designate, ocdref);
                    }
                }
                default -> {
                    // MetaData, Icon, Option...: nothing to check against.
                }
            }
        }
        Map<String, List<Attribute>> byPid = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : designated.entrySet()) {
            List<Attribute> attributes = byOcd.get(entry.getValue());
            if (attributes != null) {
                byPid.put(entry.getKey(), List.copyOf(attributes));
            }
        }
        return byPid;
    }

    /** Where the tag starting at {@code start} ends (its '>', outside quoted attribute values), or -1. */
    private static int tagEnd(String xml, int start) {
        char quote = 0;
        for (int i = start + 1; i < xml.length(); i++) {
            char c = xml.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                return i;
            }
        }
        return -1;
    }

    /** A tag's local name, without its namespace prefix. */
    private static String name(String tag) {
        int end = 0;
        while (end < tag.length() && !Character.isWhitespace(tag.charAt(end)) && tag.charAt(end) != '/') {
            end++;
        }
        String name = tag.substring(0, end);
        return name.substring(name.indexOf(':') + 1);
    }

    /** The tag's attributes: {@code key="value"} or {@code key='value'}, unescaped. */
    private static Map<String, String> attributes(String tag) {
        Map<String, String> values = new HashMap<>();
        int at = 0;
        while (true) {
            int equals = tag.indexOf('=', at);
            if (equals < 0) {
                return values;
            }
            int open = equals + 1;
            while (open < tag.length() && Character.isWhitespace(tag.charAt(open))) {
                open++;
            }
            if (open >= tag.length() || (tag.charAt(open) != '"' && tag.charAt(open) != '\'')) {
                return values;
            }
            int close = tag.indexOf(tag.charAt(open), open + 1);
            if (close < 0) {
                return values;
            }
            int keyEnd = equals;
            while (keyEnd > at && Character.isWhitespace(tag.charAt(keyEnd - 1))) {
                keyEnd--;
            }
            int keyStart = keyEnd;
            while (keyStart > at && !Character.isWhitespace(tag.charAt(keyStart - 1))) {
                keyStart--;
            }
            values.put(tag.substring(keyStart, keyEnd), unescape(tag.substring(open + 1, close)));
            at = close + 1;
        }
    }

    private static int cardinality(String value) {
        try {
            return value == null ? 0 : Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** XML's five named entities and numeric character references. */
    static String unescape(String text) {
        if (text.indexOf('&') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int end = c == '&' ? text.indexOf(';', i) : -1;
            if (end < 0) {
                out.append(c);
                continue;
            }
            String entity = text.substring(i + 1, end);
            String replacement = switch (entity) {
                case "amp" -> "&";
                case "lt" -> "<";
                case "gt" -> ">";
                case "quot" -> "\"";
                case "apos" -> "'";
                default -> numeric(entity);
            };
            if (replacement == null) {
                out.append(c);
            } else {
                out.append(replacement);
                i = end;
            }
        }
        return out.toString();
    }

    private static String numeric(String entity) {
        try {
            if (entity.startsWith("#x") || entity.startsWith("#X")) {
                return new String(Character.toChars(Integer.parseInt(entity.substring(2), 16)));
            }
            if (entity.startsWith("#")) {
                return new String(Character.toChars(Integer.parseInt(entity.substring(1))));
            }
        } catch (IllegalArgumentException e) {
            // Not a character reference: left as it is.
        }
        return null;
    }
}
