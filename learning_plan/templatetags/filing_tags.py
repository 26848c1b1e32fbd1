"""What the filing panel of the portfolio page shows (templates/learning_plan/portfolio/_filing.html): the forms
the portfolio's state allows, and the stages after filing with their estimated dates."""

from dataclasses import dataclass
from datetime import date

from django import template
from django.utils.dates import WEEKDAYS

from learning_plan.filing import stage_estimates
from learning_plan.forms import FilingForm, OutcomeForm, filing_auto_id
from learning_plan.models import FilingStage, Portfolio
from nmo_portal.calendar import today

register = template.Library()

Filing = Portfolio.Filing


@dataclass
class Stage:
    stage: FilingStage
    estimated_on: date

    @property
    def weekday_name(self) -> str:
        return str(WEEKDAYS[self.stage.weekday])


@dataclass
class FilingPanel:
    portfolio: Portfolio
    stages: list[Stage]
    # not filed yet: the stages are counted as if it were filed today
    if_filed_today: bool
    filing_form: FilingForm | None = None
    outcome_form: OutcomeForm | None = None


@register.simple_tag
def filing_panel(portfolio: Portfolio) -> FilingPanel:
    day = today()
    if portfolio.filing == Filing.FILED and portfolio.filed_on is not None:
        return FilingPanel(
            portfolio=portfolio,
            stages=[Stage(stage, on) for stage, on in stage_estimates(portfolio.filed_on)],
            if_filed_today=False,
            outcome_form=OutcomeForm(auto_id=filing_auto_id(portfolio.pk), initial={"outcome_on": day}),
        )
    if portfolio.filing == Filing.ACCREDITED:
        return FilingPanel(portfolio=portfolio, stages=[], if_filed_today=False)
    return FilingPanel(
        portfolio=portfolio,
        stages=[Stage(stage, on) for stage, on in stage_estimates(day)],
        if_filed_today=True,
        filing_form=FilingForm(auto_id=filing_auto_id(portfolio.pk), initial={"filed_on": day}),
    )
