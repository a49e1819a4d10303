"""The schema's numbered SQL files (NNN_name.sql), applied in order by `signlink db migrate`."""
