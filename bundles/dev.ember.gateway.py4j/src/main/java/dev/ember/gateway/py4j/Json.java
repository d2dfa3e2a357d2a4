package dev.ember.gateway.py4j;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

/** Small checked accessors, so a malformed request is refused with the field it got wrong. */
final class Json {

    private Json() {
    }

    static JsonObject parseObject(String text, String what) {
        if (text == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        JsonElement element;
        try {
            element = JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage());
        }
        if (!element.isJsonObject()) {
            throw new IllegalArgumentException(what + " must be a JSON object");
        }
        return element.getAsJsonObject();
    }

    static void rejectUnknown(JsonObject object, String what, Collection<String> known) {
        for (String key : object.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException(what + " has an unknown field '" + key + "' (known: " + known + ")");
            }
        }
    }

    static JsonElement required(JsonObject object, String field, String what) {
        JsonElement value = object.get(field);
        if (value == null || value.isJsonNull()) {
            throw new IllegalArgumentException(what + " is missing the field '" + field + "'");
        }
        return value;
    }

    static JsonObject asObject(JsonElement value, String what) {
        if (!value.isJsonObject()) {
            throw new IllegalArgumentException(what + " must be an object");
        }
        return value.getAsJsonObject();
    }

    static JsonArray array(JsonObject object, String field, String what) {
        JsonElement value = required(object, field, what);
        if (!value.isJsonArray()) {
            throw new IllegalArgumentException(what + " field '" + field + "' must be an array");
        }
        return value.getAsJsonArray();
    }

    static String string(JsonObject object, String field, String what) {
        JsonElement value = required(object, field, what);
        if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(what + " field '" + field + "' must be a string");
        }
        return value.getAsString();
    }

    static boolean bool(JsonObject object, String field, String what) {
        JsonElement value = required(object, field, what);
        if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isBoolean()) {
            throw new IllegalArgumentException(what + " field '" + field + "' must be true or false");
        }
        return value.getAsBoolean();
    }

    static int integer(JsonObject object, String field, String what) {
        JsonElement value = required(object, field, what);
        return asInt(value, what + " field '" + field + "'");
    }

    static long longInteger(JsonObject object, String field, String what) {
        JsonElement value = required(object, field, what);
        if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber()) {
            java.math.BigDecimal number = value.getAsJsonPrimitive().getAsBigDecimal();
            try {
                return number.longValueExact();
            } catch (ArithmeticException e) {
                // Falls through to the error below.
            }
        }
        throw new IllegalArgumentException(what + " field '" + field + "' must be an integer, got " + value);
    }

    static int asInt(JsonElement value, String what) {
        if (value.isJsonPrimitive()) {
            JsonPrimitive primitive = value.getAsJsonPrimitive();
            if (primitive.isNumber()) {
                double number = primitive.getAsDouble();
                if (number == Math.rint(number) && Math.abs(number) <= Integer.MAX_VALUE) {
                    return (int) number;
                }
            }
        }
        throw new IllegalArgumentException(what + " must be an integer, got " + value);
    }

    static Map<String, String> stringMap(JsonObject object, String field, String what) {
        JsonElement value = object.get(field);
        Map<String, String> map = new HashMap<>();
        if (value == null || value.isJsonNull()) {
            return map;
        }
        if (!value.isJsonObject()) {
            throw new IllegalArgumentException(what + " field '" + field + "' must be an object of strings");
        }
        for (Map.Entry<String, JsonElement> entry : value.getAsJsonObject().entrySet()) {
            JsonElement item = entry.getValue();
            if (!item.isJsonPrimitive() || !item.getAsJsonPrimitive().isString()) {
                throw new IllegalArgumentException(what + " field '" + field + "." + entry.getKey() + "' must be a string");
            }
            map.put(entry.getKey(), item.getAsString());
        }
        return map;
    }
}
