"""StorageLevel: how an RDD is persisted, with PySpark's named levels.

Ember keeps persisted partitions in the engine's memory and spills them to disk past its memory budget, whatever
the level; the level is recorded and reported."""

from __future__ import annotations

from typing import ClassVar


class StorageLevel:
    """How an RDD is persisted: on disk, in memory, off the heap, deserialized, and in how many copies. Pass one of
    the named levels (``MEMORY_ONLY``, ``MEMORY_AND_DISK``, ``DISK_ONLY``, ...) to ``RDD.persist``; Ember records the
    level and reports it, and keeps the partitions the same way whatever it is.

    Examples
    --------
    >>> StorageLevel.MEMORY_AND_DISK
    StorageLevel(True, True, False, False, 1)
    >>> print(StorageLevel.MEMORY_ONLY_2)
    Memory Serialized 2x Replicated
    >>> StorageLevel(True, True, False, False) == StorageLevel.MEMORY_AND_DISK
    True
    >>> rdd = sc.parallelize([1, 2, 3]).persist(StorageLevel.DISK_ONLY)
    >>> rdd.getStorageLevel().useDisk, rdd.getStorageLevel().useMemory
    (True, False)
    >>> rdd = rdd.unpersist()
    """

    # The named levels, set below the class.
    DISK_ONLY: ClassVar[StorageLevel]
    DISK_ONLY_2: ClassVar[StorageLevel]
    DISK_ONLY_3: ClassVar[StorageLevel]
    MEMORY_ONLY: ClassVar[StorageLevel]
    MEMORY_ONLY_2: ClassVar[StorageLevel]
    MEMORY_AND_DISK: ClassVar[StorageLevel]
    MEMORY_AND_DISK_2: ClassVar[StorageLevel]
    OFF_HEAP: ClassVar[StorageLevel]
    MEMORY_AND_DISK_DESER: ClassVar[StorageLevel]

    def __init__(self, useDisk: bool, useMemory: bool, useOffHeap: bool, deserialized: bool,
                 replication: int = 1) -> None:
        self.useDisk = useDisk
        self.useMemory = useMemory
        self.useOffHeap = useOffHeap
        self.deserialized = deserialized
        self.replication = replication

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorageLevel) and (
            self.useDisk, self.useMemory, self.useOffHeap, self.deserialized, self.replication) == (
            other.useDisk, other.useMemory, other.useOffHeap, other.deserialized, other.replication)

    def __hash__(self) -> int:
        return hash((self.useDisk, self.useMemory, self.useOffHeap, self.deserialized, self.replication))

    def __repr__(self) -> str:
        return "StorageLevel(%s, %s, %s, %s, %s)" % (
            self.useDisk, self.useMemory, self.useOffHeap, self.deserialized, self.replication)

    def __str__(self) -> str:
        parts = ["Disk" if self.useDisk else "", "Memory" if self.useMemory else "",
                 "OffHeap" if self.useOffHeap else "", "Deserialized" if self.deserialized else "Serialized"]
        return " ".join(p for p in parts if p) + f" {self.replication}x Replicated"


StorageLevel.DISK_ONLY = StorageLevel(True, False, False, False)
StorageLevel.DISK_ONLY_2 = StorageLevel(True, False, False, False, 2)
StorageLevel.DISK_ONLY_3 = StorageLevel(True, False, False, False, 3)
StorageLevel.MEMORY_ONLY = StorageLevel(False, True, False, False)
StorageLevel.MEMORY_ONLY_2 = StorageLevel(False, True, False, False, 2)
StorageLevel.MEMORY_AND_DISK = StorageLevel(True, True, False, False)
StorageLevel.MEMORY_AND_DISK_2 = StorageLevel(True, True, False, False, 2)
StorageLevel.OFF_HEAP = StorageLevel(True, True, True, False, 1)
StorageLevel.MEMORY_AND_DISK_DESER = StorageLevel(True, True, False, True)
