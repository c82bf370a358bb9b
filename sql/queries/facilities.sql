-- Every facility, for dropdowns and name lookups (scope is applied by the caller).
select id, name, region, state, kind from recruiting.facilities order by name, id
