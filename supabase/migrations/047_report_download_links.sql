-- 047_report_download_links.sql: the owner of a report may get a fresh signed link to it at any time
-- (the emailed link expires); nobody else can.
--
-- The frontend reads its own row of public.reports (RLS: reports_select_own) for the object's path
-- and asks Storage to sign it (supabase.storage.from('reports').createSignedUrl). Storage signs only
-- what the caller may select in storage.objects, and the private bucket had no policy for API roles
-- (040): this one lets a signed-in user select exactly the objects of their own reports. Nothing is
-- queued, rendered or emailed, so the per-user report request limit does not apply.
--
--   object                                     who
--   public.owns_report_object(object_name)     authenticated: is this object one of my reports?
--   policy reports_owner_read on storage.objects  authenticated, bucket reports, own reports only
--                                              (created where Supabase Storage exists; the devstack's
--                                              API asks owns_report_object before it signs)

create function public.owns_report_object(object_name text)
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select exists (
    select 1
    from public.reports r
    where r.storage_path = owns_report_object.object_name
      and r.user_id = (select auth.uid())
  );
$$;

comment on function public.owns_report_object(text) is
  'authenticated: whether object_name (a path in the reports bucket) is a report of the signed-in user. The rule of the reports_owner_read policy on storage.objects (Storage signs a link only when it holds) and what the devstack''s Storage stand-in asks before signing. Security invoker: public.reports RLS applies as well.';

revoke execute on function public.owns_report_object(text) from public, anon, service_role;
grant execute on function public.owns_report_object(text) to authenticated;

do $$
begin
  if pg_catalog.to_regclass('storage.objects') is not null then
    execute $sql$
      create policy reports_owner_read on storage.objects
        for select to authenticated
        using (bucket_id = 'reports' and public.owns_report_object(name))
    $sql$;
  end if;
end;
$$;
