"""Staff users, their roles at facilities, and API clients of other systems with their tokens.

Public: `services.create_staff_user`, `services.grant_role`, `services.issue_api_token`,
`services.ensure_demo_accounts`; `selectors.authenticate_api_token`, `selectors.roles_of`.
"""
