package dev.ember.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Configuration values checked against the metatype bnd writes for the components' configuration interfaces. */
class ConfigCheckTest {

    /** As bnd writes the gateway's (OSGI-INF/metatype/dev.ember.gateway.py4j.Py4jGateway$Config.xml). */
    static final String GATEWAY = """
            <?xml version="1.0" encoding="UTF-8"?>
            <metatype:MetaData xmlns:metatype="http://www.osgi.org/xmlns/metatype/v1.2.0" \
            localization="OSGI-INF/l10n/dev.ember.gateway.py4j.Py4jGateway$Config">
              <OCD id="dev.ember.gateway.py4j.Py4jGateway$Config" name="Ember Py4J gateway" description="">
                <AD id="bindAddress" type="String" name="Bind address" description="Address; loopback &lt;unless&gt; set" \
            default="127.0.0.1"/>
                <AD id="port" type="Integer" name="Port" description="Py4J port; 0 picks a free one" default="0"/>
                <AD id="servicePort" type="Integer" name="Service port" description="a service's" default="7787"/>
                <AD id="secure" type="Boolean" name="Secure" description="x > y" default="true"/>
                <AD id="limit" type="Long" name="Limit" description=""/>
                <AD id="ratio" type="Double" name="Ratio" description="" default="0.5"/>
              </OCD>
              <!-- <Designate pid="commented.out"><Object ocdref="x"/></Designate> -->
              <Designate pid="dev.ember.gateway.py4j">
                <Object ocdref="dev.ember.gateway.py4j.Py4jGateway$Config"/>
              </Designate>
            </metatype:MetaData>
            """;

    @Test
    void readsThePidsAttributesTypesAndDefaults() {
        Map<String, List<Metatype.Attribute>> byPid = Metatype.parse(GATEWAY);
        assertEquals(Set.of("dev.ember.gateway.py4j"), byPid.keySet());
        List<Metatype.Attribute> attributes = byPid.get("dev.ember.gateway.py4j");
        assertEquals(List.of("bindAddress", "port", "servicePort", "secure", "limit", "ratio"),
                attributes.stream().map(Metatype.Attribute::id).toList());
        assertEquals(new Metatype.Attribute("port", "Integer", "0", 0), attributes.get(1));
        assertEquals(new Metatype.Attribute("limit", "Long", null, 0), attributes.get(4));
    }

    @Test
    void unescapesXmlEntities() {
        assertEquals("a <b> & \"c\" 'd' é", Metatype.unescape("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;"));
        assertEquals("a & b", Metatype.unescape("a & b"));
    }

    @Test
    void aValueThatIsNotItsTypeIsNamedInOneLineWithTheDefaultUsedInstead() {
        ConfigCheck.Result result = check(Map.of("port", "abc"));
        assertEquals(List.of("conf/dev.ember.gateway.py4j.cfg: port = \"abc\" is not an integer; using the default 0"),
                result.lines());
        assertEquals(Set.of("port"), result.invalid());
    }

    @Test
    void eachTypeIsCheckedAsDeclarativeServicesWouldCoerceIt() {
        assertTrue(check(Map.of("port", "8080", "servicePort", " 0 ", "secure", "FALSE", "limit", "123456789012",
                "ratio", "1e3", "bindAddress", "anything at all")).clean());
        assertEquals(List.of("x.cfg: secure = \"yes\" is not true or false; using the default true"),
                ConfigCheck.check("x.cfg", Map.of("secure", "yes"), gateway()).lines());
        assertEquals(Set.of("port", "limit", "ratio"),
                check(Map.of("port", "99999999999", "limit", "1.5", "ratio", "half")).invalid());
        assertEquals(Set.of("port"), check(Map.of("port", "")).invalid());
        // Typed values (a .config file's) are fine as they are.
        assertTrue(check(Map.of("port", 8080, "secure", Boolean.TRUE, "limit", 5L)).clean());
    }

    @Test
    void anAttributeWithoutDefaultIsSaidToBeIgnored() {
        assertEquals(List.of("conf/dev.ember.gateway.py4j.cfg: limit = \"lots\" is not an integer; it is ignored"),
                check(Map.of("limit", "lots")).lines());
    }

    @Test
    void anUnknownKeyIsNamedWithTheKnownOnesAndKeptOut() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("prot", "7787");
        values.put("transport.target", "(ember.transport=tcp)");
        values.put("felix.fileinstall.filename", "file:/x/conf/dev.ember.gateway.py4j.cfg");
        values.put("service.pid", "dev.ember.gateway.py4j");
        ConfigCheck.Result result = check(values);
        assertEquals(List.of("conf/dev.ember.gateway.py4j.cfg: unknown key \"prot\" (known: bindAddress, port, "
                + "servicePort, secure, limit, ratio); it is ignored"), result.lines());
        assertEquals(Set.of(), result.invalid(), "an unknown key is harmless; only bad values are left out");
    }

    @Test
    void typesAreReadWhateverTheirCase() {
        assertNull(ConfigCheck.problem("integer", "5"));
        assertEquals("an integer", ConfigCheck.problem("INTEGER", "five"));
        assertEquals("a single character", ConfigCheck.problem("Character", "ab"));
        assertEquals("an integer from -128 to 127", ConfigCheck.problem("Byte", "300"));
        assertNull(ConfigCheck.problem("Password", "x"));
    }

    private static List<Metatype.Attribute> gateway() {
        return Metatype.parse(GATEWAY).get("dev.ember.gateway.py4j");
    }

    private static ConfigCheck.Result check(Map<String, ?> values) {
        return ConfigCheck.check("conf/dev.ember.gateway.py4j.cfg", values, gateway());
    }
}
