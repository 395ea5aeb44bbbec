-- Searching feed events by address and prefix (issue 5). src_ipn is the
-- source address as 16 bytes, an IPv4 address in its IPv4-mapped IPv6
-- form (::ffff:a.b.c.d), so that a prefix is one range of the index and
-- the two families never mix. The pipeline may write it (feeds.IPKey);
-- when it does not, the trigger derives it from src_ip, whose text is
-- canonical (Go's netip form: IPv4 dotted, IPv6 lower case with "::").
--
-- The derivation, the same in the trigger and in the update of the rows
-- stored before: IPv4 as a JSON array of its four numbers; IPv6 with a
-- "0" added where it starts or ends with "::", its "::" expanded to the
-- zero groups it stands for, each group padded to four hex digits. A text
-- that is not an address gives NULL, never an error.
ALTER TABLE feed_events ADD COLUMN src_ipn BLOB;

CREATE TRIGGER feed_events_src_ipn AFTER INSERT ON feed_events
WHEN NEW.src_ipn IS NULL AND NEW.src_ip <> ''
BEGIN
    UPDATE feed_events SET src_ipn = (
        SELECT CASE WHEN instr(x.s, ':') = 0 THEN
            (SELECT unhex('00000000000000000000ffff' || group_concat(printf('%02x', value), '' ORDER BY key)) FROM json_each(
                CASE WHEN json_valid('[' || replace(x.s, '.', ',') || ']') THEN '[' || replace(x.s, '.', ',') || ']' ELSE '[]' END)
             HAVING count(*) = 4)
        ELSE
            (SELECT unhex(group_concat(substr('000' || value, -4, 4), '' ORDER BY key)) FROM json_each(
                '["' || replace(replace(x.s, '::', ':' || substr('0:0:0:0:0:0:0:0:', 1, 2 * (8 - (length(x.s) - length(replace(x.s, ':', '')))))),
                    ':', '","') || '"]')
             HAVING count(*) = 8)
        END
        FROM (SELECT CASE WHEN src_ip LIKE '::%' THEN '0' ELSE '' END || src_ip || CASE WHEN src_ip LIKE '%::' THEN '0' ELSE '' END AS s) AS x)
    WHERE id = NEW.id;
END;

UPDATE feed_events SET src_ipn = (
        SELECT CASE WHEN instr(x.s, ':') = 0 THEN
            (SELECT unhex('00000000000000000000ffff' || group_concat(printf('%02x', value), '' ORDER BY key)) FROM json_each(
                CASE WHEN json_valid('[' || replace(x.s, '.', ',') || ']') THEN '[' || replace(x.s, '.', ',') || ']' ELSE '[]' END)
             HAVING count(*) = 4)
        ELSE
            (SELECT unhex(group_concat(substr('000' || value, -4, 4), '' ORDER BY key)) FROM json_each(
                '["' || replace(replace(x.s, '::', ':' || substr('0:0:0:0:0:0:0:0:', 1, 2 * (8 - (length(x.s) - length(replace(x.s, ':', '')))))),
                    ':', '","') || '"]')
             HAVING count(*) = 8)
        END
        FROM (SELECT CASE WHEN src_ip LIKE '::%' THEN '0' ELSE '' END || src_ip || CASE WHEN src_ip LIKE '%::' THEN '0' ELSE '' END AS s) AS x)
WHERE src_ipn IS NULL AND src_ip <> '';

CREATE INDEX feed_events_src_ipn ON feed_events (src_ipn);
