-- The connection's preserve_insertion_order, to restore it after a drop's write phase.
SELECT current_setting('preserve_insertion_order')
