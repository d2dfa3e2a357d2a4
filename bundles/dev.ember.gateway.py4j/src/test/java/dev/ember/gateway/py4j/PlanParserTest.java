package dev.ember.gateway.py4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;

class PlanParserTest {

    private static final PlanParser.Blobs NO_BLOBS = id -> null;
    private static final String EMPTY_1 = "[{\"kind\":\"empty\",\"count\":1}]";
    private static final String EMPTY_3 = "[{\"kind\":\"empty\",\"count\":3}]";

    private static String stage(String inputJson, String commandField) {
        return "{\"id\":0,\"commandId\":\"abc\"," + commandField + ",\"input\":" + inputJson
                + ",\"output\":{\"kind\":\"result\"},\"inputCodec\":\"pickle\",\"outputCodec\":\"pickle\"}";
    }

    private static String plan(String stageJson, String partitions) {
        return "{\"stages\":[" + stageJson + "],\"partitions\":" + partitions + ",\"jobGroup\":null}";
    }

    private static String inlineCommand(String text) {
        return "\"command\":\"" + Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)) + "\"";
    }

    @Test
    void parsesADatasetStage() {
        JobPlan plan = PlanParser.parse(plan(stage("[{\"kind\":\"dataset\",\"id\":7,\"count\":3}]",
                inlineCommand("fn")), "[2,0]"), NO_BLOBS);
        StagePlan stage = plan.resultStage();
        assertEquals(3, stage.numPartitions());
        assertEquals("abc", stage.commandId());
        assertArrayEquals("fn".getBytes(StandardCharsets.UTF_8), stage.command());
        assertEquals(List.of(InputSegment.dataset(7, 3)), stage.input());
        assertEquals(StageOutput.result(), stage.output());
        assertArrayEquals(new int[] { 2, 0 }, plan.partitions());
        assertNull(plan.jobGroup());
    }

    @Test
    void carriesTheCallSiteInOneLineOfBoundedLength() {
        String stage = stage(EMPTY_1, inlineCommand("fn"));
        assertNull(PlanParser.parse(plan(stage, "[0]"), NO_BLOBS).callSite());
        assertEquals("collect at wordcount.py:12", PlanParser.parse("{\"stages\":[" + stage
                + "],\"partitions\":[0],\"callSite\":\"collect at wordcount.py:12\"}", NO_BLOBS).callSite());
        assertNull(PlanParser.parse("{\"stages\":[" + stage + "],\"partitions\":[0],\"callSite\":null}", NO_BLOBS)
                .callSite());
        String forged = PlanParser.parse("{\"stages\":[" + stage + "],\"partitions\":[0],\"callSite\":\"count at a.py:1"
                + "\\n2026-01-01 ERROR forged " + "x".repeat(400) + "\"}", NO_BLOBS).callSite();
        assertTrue(forged.startsWith("count at a.py:1?2026-01-01 ERROR forged x"), forged);
        assertEquals(PlanParser.MAX_CALL_SITE, forged.length());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                "{\"stages\":[" + stage + "],\"partitions\":[0],\"callSite\":12}", NO_BLOBS));
        assertTrue(e.getMessage().contains("'callSite' must be a string"), e.getMessage());
    }

    @Test
    void parsesAStageThatReadsFilesAndWritesFiles() {
        String stage = "{\"id\":0,\"commandId\":\"abc\"," + inlineCommand("fn")
                + ",\"input\":[{\"kind\":\"files\",\"id\":5,\"count\":2}],\"output\":{\"kind\":\"files\",\"id\":6},"
                + "\"inputCodec\":\"pickle\",\"outputCodec\":\"json\"}";
        JobPlan plan = PlanParser.parse(plan(stage, "[0,1]"), NO_BLOBS);
        assertEquals(List.of(InputSegment.files(5, 2)), plan.resultStage().input());
        assertEquals(StageOutput.files(6), plan.resultStage().output());
        assertEquals("json", plan.resultStage().outputCodec());
        String fileOutputFirst = plan("{\"id\":0,\"commandId\":\"a\"," + inlineCommand("fn") + ",\"input\":" + EMPTY_1
                + ",\"output\":{\"kind\":\"files\",\"id\":6},\"inputCodec\":\"pickle\",\"outputCodec\":\"text\"},"
                + stage(EMPTY_1, inlineCommand("fn")), "[0]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse(fileOutputFirst, NO_BLOBS));
        assertTrue(e.getMessage().contains("only the last stage may return results or write files"), e.getMessage());
    }

    @Test
    void takesALargeCommandFromAnUploadedBlob() {
        Map<Integer, byte[]> blobs = new java.util.HashMap<>(Map.of(4, new byte[] { 9, 8, 7 }));
        JobPlan plan = PlanParser.parse(plan(stage(EMPTY_1, "\"commandBlob\":4"), "[0]"), blobs::remove);
        assertArrayEquals(new byte[] { 9, 8, 7 }, plan.resultStage().command());
        assertEquals(List.of(InputSegment.empty(1)), plan.resultStage().input());
        assertTrue(blobs.isEmpty(), "a blob is used once");
    }

    @Test
    void rejectsAMissingBlob() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse(plan(stage(EMPTY_1, "\"commandBlob\":5"), "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("command blob 5"), e.getMessage());
    }

    @Test
    void rejectsUnknownFieldsByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                "{\"stages\":[],\"partitions\":[],\"shuffle\":true}", NO_BLOBS));
        assertTrue(e.getMessage().contains("unknown field 'shuffle'"), e.getMessage());
    }

    @Test
    void rejectsMalformedJson() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse("{\"stages\": [", NO_BLOBS));
        assertTrue(e.getMessage().startsWith("job plan is not valid JSON"), e.getMessage());
    }

    @Test
    void rejectsAMissingFieldByName() {
        String noCodec = "{\"id\":0,\"commandId\":\"a\"," + inlineCommand("x") + ",\"input\":" + EMPTY_1
                + ",\"output\":{\"kind\":\"result\"},\"inputCodec\":\"pickle\"}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse(plan(noCodec, "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("missing the field 'outputCodec'"), e.getMessage());
    }

    @Test
    void rejectsAPartitionOutsideTheStage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                plan(stage(EMPTY_3, inlineCommand("x")), "[3]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("partition 3"), e.getMessage());
    }

    @Test
    void rejectsAFractionalPartitionCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                plan(stage("[{\"kind\":\"empty\",\"count\":2.5}]", inlineCommand("x")), "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("'count' must be an integer"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownInputKind() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                plan(stage("[{\"kind\":\"socket\",\"count\":1}]", inlineCommand("x")), "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("unknown kind 'socket'"), e.getMessage());
    }

    @Test
    void parsesAShuffleMapStageBeforeTheResultStage() {
        String map = "{\"id\":0,\"commandId\":\"m\"," + inlineCommand("m") + ",\"input\":"
                + "[{\"kind\":\"dataset\",\"id\":1,\"count\":2}],\"output\":{\"kind\":\"shuffle\",\"id\":5,"
                + "\"numReducers\":3},\"broadcasts\":[4],\"inputCodec\":\"pickle\",\"outputCodec\":\"pickle\"}";
        String reduce = stage("[{\"kind\":\"shuffle\",\"id\":5,\"count\":3}]", inlineCommand("r"));
        JobPlan plan = PlanParser.parse("{\"stages\":[" + map + "," + reduce + "],\"partitions\":[0,1,2]}", NO_BLOBS);
        assertEquals(StageOutput.shuffle(5, 3), plan.stages().get(0).output());
        assertEquals(List.of(4), plan.stages().get(0).broadcasts());
        assertEquals(List.of(InputSegment.shuffle(5, 3)), plan.resultStage().input());
    }

    @Test
    void rejectsAPlanWhoseLastStageDoesNotReturnResults() {
        String map = "{\"id\":0,\"commandId\":\"m\"," + inlineCommand("m") + ",\"input\":" + EMPTY_1
                + ",\"output\":{\"kind\":\"cache\",\"id\":2},\"inputCodec\":\"pickle\",\"outputCodec\":\"pickle\"}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse("{\"stages\":[" + map + "],\"partitions\":[0]}", NO_BLOBS));
        assertTrue(e.getMessage().contains("last stage"), e.getMessage());
    }
}
