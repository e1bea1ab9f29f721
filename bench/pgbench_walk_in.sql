-- The SQL of one walk-in booking, as book_ticket sends it on PostgreSQL: the service with
-- its branch, names, closures and queue (waiting tickets up to now, open counters) in one
-- autocommit query, then the day's number, the ticket and its first event in one
-- statement (a data-modifying CTE) that is a transaction by itself: no BEGIN/COMMIT.
-- bench/booking.py runs it with pgbench to measure what the database alone achieves:
--   pgbench -n -M prepared -c 32 -j 2 -T 10 -f bench/pgbench_walk_in.sql \
--     -D company=… -D service=… -D branch=… -D grp=… -D prefix=W -D day=YYYY-MM-DD -D key=…
-- The ticket id is random (40 bits, as hex), like the app's 10 random characters.
-- Needs -M prepared: the :variables are bound as parameters, with the casts below.
-- bench/booking.py also runs it with the request's API-key check put in front.
\set tid random(0, 1099511627775)
SELECT services.id, services.group_id, services.branch_id, services.prefix, services.walk_in,
       services.walk_in_hours, services.appointment_prefix, services.slot_minutes,
       services.slot_capacity, services.horizon_days, services.min_notice_minutes,
       services.appointment_hours, branches.timezone, branches.hours,
       services.avg_service_minutes, branches.name, service_groups.name, services.name,
       (SELECT string_agg(CAST(branch_closures.day AS VARCHAR), ',') FROM branch_closures
         WHERE branch_closures.branch_id = services.branch_id
           AND branch_closures.day >= current_date - 1) AS closures,
       (SELECT count(*) FROM tickets
         WHERE tickets.service_id = services.id AND tickets.status = 'waiting'
           AND tickets.queue_at <= now()) AS waiting,
       (SELECT count(*) FROM counter_services JOIN counters ON counters.id = counter_services.counter_id
         WHERE counter_services.service_id = services.id AND counter_services.enabled IS true
           AND counters.held_by IS NOT NULL) AS open_counters
  FROM services
  JOIN service_groups ON service_groups.id = services.group_id
  JOIN branches ON branches.id = services.branch_id
 WHERE services.id = :service::varchar AND services.company_id = :company::varchar
   AND services.active IS true AND service_groups.active IS true AND branches.active IS true;
WITH numbered AS (
  INSERT INTO ticket_numbers (branch_id, prefix, day, last_number)
  VALUES (:branch::varchar, :prefix::varchar, :day::date, 1)
  ON CONFLICT (branch_id, prefix, day) DO UPDATE SET last_number = ticket_numbers.last_number + 1
  RETURNING ticket_numbers.last_number
), inserted AS (
  INSERT INTO tickets (id, company_id, branch_id, group_id, service_id, customer_id, type, status,
                       prefix, day, service_day, time, queue_at, status_at, booked_at, options,
                       lat, lng, number)
  SELECT lpad(to_hex(:tid::bigint), 10, '0'), :company::varchar, :branch::varchar,
         :grp::varchar, :service::varchar, NULL::varchar, 'sequential', 'waiting',
         :prefix::varchar, :day::date, :day::date, NULL::timestamptz, now(), now(), now(),
         NULL::jsonb, NULL::float, NULL::float, numbered.last_number
    FROM numbered
  RETURNING tickets.id, tickets.number
), logged AS (
  INSERT INTO ticket_events (company_id, from_status, to_status, at, actor_kind, actor_id, source,
                             ticket_id)
  SELECT :company::varchar, NULL::varchar, 'waiting', now(), 'api_key', :key::varchar,
         'external_api', inserted.id
    FROM inserted
)
SELECT inserted.number FROM inserted;
