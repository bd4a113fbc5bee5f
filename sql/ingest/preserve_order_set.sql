-- Phase 2 appends rows in any order (each keeps its line); phase 1 numbers rows in file order.
SET preserve_insertion_order = $preserve
