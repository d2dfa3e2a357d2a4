package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileInputTest {

    @TempDir
    Path dir;

    @Test
    void commasInsideBracesDoNotSeparatePaths() {
        assertEquals(List.of("/a/{x,y}.txt", "/b", "/c/{1,{2,3}}"), FileInput.splitPaths("/a/{x,y}.txt,/b,/c/{1,{2,3}}"));
        // As in Hadoop, after an unclosed brace no comma separates.
        assertEquals(List.of("/unclosed/{a,b"), FileInput.splitPaths("/unclosed/{a,b"));
    }

    @Test
    void bracesExpandInOrderNestedToo() {
        assertEquals(List.of("a.txt", "b.txt"), FileInput.expandBraces("{a,b}.txt"));
        assertEquals(List.of("x/1", "x/2", "x/3", "y"), FileInput.expandBraces("{x/{1,{2,3}},y}"));
        assertEquals(List.of("{open"), FileInput.expandBraces("{open"));
    }

    @Test
    void globsWithBracesListMatchingFilesOnceAndSorted() throws IOException {
        for (String name : List.of("a.txt", "b.txt", "c.txt", "d.log")) {
            Files.writeString(dir.resolve(name), name);
        }
        Files.createDirectory(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/e.txt"), "e");
        List<Path> found = FileInput.list(dir + "/{c,a,a}.txt," + dir + "/{sub/e.txt,d.log}");
        assertEquals(List.of(dir.resolve("a.txt"), dir.resolve("c.txt"), dir.resolve("d.log"),
                dir.resolve("sub/e.txt")), found);
    }

    @Test
    void urisOfOtherFileSystemsAreRefusedNamingTheScheme() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> FileInput.list("hdfs://namenode:8020/data"));
        assertTrue(refused.getMessage().contains("not hdfs:// URIs"), refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileInput.list(dir + ",s3a://bucket/key"));
    }
}
