-- Engagement worker: alert memory. The as-of date of the first of a partner's consecutive
-- scorings at or above the program's threshold (NULL while below it); a partner is planned a
-- challenge only once it is at least `confirm_days` old (engagement.plan.confirm_days).
ALTER TABLE partner_scores ADD COLUMN at_risk_since date;
