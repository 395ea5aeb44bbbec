-- Searching feed events by address and prefix (issue 5). src_ipn is the
-- source address as 16 bytes, an IPv4 address in its IPv4-mapped IPv6
-- form (::ffff:a.b.c.d), so that a prefix is one range of the index and
-- the two families never mix. The pipeline may write it (feeds.IPKey);
-- when it does not, the trigger derives it from src_ip. A text that is
-- not an address gives NULL, never an error.
ALTER TABLE feed_events ADD COLUMN src_ipn BYTEA;

CREATE FUNCTION feed_ip_key(ip TEXT) RETURNS BYTEA LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    a INET;
    s TEXT;
    n INTEGER;
BEGIN
    IF ip = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        a := ip::inet;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    IF family(a) = 4 THEN
        IF masklen(a) <> 32 THEN
            RETURN NULL;
        END IF;
        RETURN decode('00000000000000000000ffff' || lpad(to_hex(a - '0.0.0.0'::inet), 8, '0'), 'hex');
    END IF;
    IF masklen(a) <> 128 THEN
        RETURN NULL;
    END IF;
    -- The eight groups of the canonical text, "::" expanded, each padded
    -- to four hex digits (an offset from :: would overflow a bigint).
    s := host(a);
    IF position('.' IN s) > 0 THEN
        RETURN NULL; -- ::ffff:a.b.c.d; the pipeline stores IPv4 unmapped
    END IF;
    IF s LIKE '::%' THEN
        s := '0' || s;
    END IF;
    IF s LIKE '%::' THEN
        s := s || '0';
    END IF;
    n := length(s) - length(replace(s, ':', ''));
    s := replace(s, '::', ':' || repeat('0:', 8 - n));
    RETURN decode((SELECT string_agg(lpad(g, 4, '0'), '' ORDER BY i) FROM unnest(string_to_array(s, ':')) WITH ORDINALITY AS t (g, i)), 'hex');
END;
$$;

CREATE FUNCTION feed_events_src_ipn() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    NEW.src_ipn := feed_ip_key(NEW.src_ip);
    RETURN NEW;
END;
$$;

CREATE TRIGGER feed_events_src_ipn BEFORE INSERT ON feed_events
FOR EACH ROW WHEN (NEW.src_ipn IS NULL AND NEW.src_ip <> '')
EXECUTE FUNCTION feed_events_src_ipn();

UPDATE feed_events SET src_ipn = feed_ip_key(src_ip) WHERE src_ipn IS NULL AND src_ip <> '';

CREATE INDEX feed_events_src_ipn ON feed_events (src_ipn);
